"""Stages, the scheduler, the local and Ray runners, and job state."""
