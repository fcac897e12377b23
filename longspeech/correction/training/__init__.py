"""Fine-tuning the corrector on the project's own TTS -> ASR error pairs: the dataset
(data.py, items.py) and the LoRA adapter trainer (lora.py)."""

from .data import CorrectionDataOptions, build
from .lora import CorrectionTrainOptions, train_correction

__all__ = ["CorrectionDataOptions", "CorrectionTrainOptions", "build", "train_correction"]
