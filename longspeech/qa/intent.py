"""What kind of question a person asked about a recording, whatever their wording.

A logistic regression (scikit-learn) over the words and letter groups of the question, with
its arguments replaced by marker words (question_args.py) and each word tagged with the idea
it carries ("dominated", "hogged" and "longest" all say *most*; "opens" and "kicked off" say
*first*), learns the kinds from the labelled phrasings in question_examples.py. Trained once
per process in well under a second; the same examples always give the same model.

Kinds: count, talk_most, talk_least, talk_time, first_speaker, last_speaker, who_said,
when_said, what_said, around, topics, and fact (a question about the content: retrieval and
the LLM answer it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .question_args import PERSON, QUOTE, TIME, QuestionArgs, question_args
from .question_examples import EXAMPLES

KINDS = tuple(EXAMPLES)
FACT = "fact"
# The idea a word carries, as an extra feature: the examples cannot hold every synonym.
_IDEAS: tuple[tuple[str, str], ...] = (
    ("zmost", r"most|longest|dominat\w*|majority|biggest|largest|greatest|hog\w*|main|"
               r"bulk|chatt\w*"),
    ("zleast", r"least|quiet\w*|shortest|fewest|barely|hardly|smallest|little|silent|"
               r"rarely|seldom|less"),
    ("zfirst", r"first|open\w*|start\w*|began|begin\w*|kick\w*|earliest|initial\w*|hello"),
    ("zlast", r"last|final\w*|clos\w*|end|ended|ends|ending|wrap\w*|finish\w*|latest|"
              r"goodbye|bye"),
    ("ztalk", r"talk\w*|speak\w*|spoke\w*|said|say\w*|voices?|airtime|floor|words|utter\w*|"
              r"chat\w*|contribut\w*"),
    ("zpeople", r"speakers|people|persons|voices|participants|folks|individuals|attendees|"
                r"ppl|headcount|guests"),
    ("zmention", r"mention\w*|brought|bring\w*|rais\w*|discuss\w*|remark\w*|line|quote\w*"),
    ("zwhen", r"when|timestamp|moment|point|minute"),
    ("zopinion", r"view|take|thoughts?|think\w*|opinion|comments?|remarks?|position|stance"),
    ("zsummary", r"topics?|summar\w*|overview|gist|themes?|subjects?|outline|recap|covers?|"
                 r"covered|tl;?dr|points|sum|gist"),
    ("zcount", r"many|number|count\w*|headcount"),
    ("zduration", r"long|duration|minutes|seconds|time"),
)
_IDEA_RES = [(tag, re.compile(rf"^(?:{pattern})$")) for tag, pattern in _IDEAS]
_TOKEN = re.compile(r"[a-z0-9;']+")
# Words that say what kind of question it is, not what it is about.
FRAME_WORDS = frozenset("""who whom whose when what which where how why did does do was were is are
say said says saying tell told mention mentioned mentions mentioning talk talks talked talking
about speak speaks spoke speaking bring brings brought up raise raised raises discuss
discussed discusses discussing someone somebody anyone anybody person speaker participant
one that it time moment point find jump timestamp recording meeting conversation call
episode regarding on of remark line made quote think view take words comments points
opinion thoughts have had has to us me them they their there anything something
say summarise summarize what's where's who's come came turn turned minute far into
concerning remarks comment tell give show exactly topic subject i'd like know""".split())


@dataclass(frozen=True)
class Parsed:
    """A question's kind (with the classifier's probability for it) and its arguments."""

    kind: str
    probability: float
    args: QuestionArgs

    @property
    def topic(self) -> str:
        """What the question is about: the quoted phrase, else its words that are not its
        frame ("Who brought up the harbour strike?" -> "harbour strike")."""
        if self.args.phrase:
            return self.args.phrase
        words = [w for w in _TOKEN.findall(self.args.skeleton)
                 if w not in FRAME_WORDS and not w.startswith("zq")]
        return " ".join(words)


def features(skeleton: str) -> str:
    """The skeleton with each word's idea tag after it."""
    out = []
    for w in _TOKEN.findall(skeleton):
        out.append(w)
        out.extend(tag for tag, rx in _IDEA_RES if rx.match(w))
    return " ".join(out)


def _example_text(template: str) -> str:
    return template.replace("{P}", PERSON).replace("{Q}", f'"{QUOTE}"').replace("{T}", TIME)


@lru_cache(maxsize=1)
def classifier() -> Any:
    """The question-kind classifier, fitted on the labelled examples."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    texts, labels = [], []
    for kind, examples in EXAMPLES.items():
        for ex in examples:
            texts.append(features(question_args(_example_text(ex), []).skeleton))
            labels.append(kind)
    vectorize = make_union(
        TfidfVectorizer(ngram_range=(1, 2), token_pattern=r"[a-z0-9;']+", sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True))
    model = make_pipeline(vectorize, LogisticRegression(C=20.0, max_iter=5000))
    return model.fit(texts, labels)


def parse_question(question: str, speakers: Sequence[str] = (),
                   roles: Mapping[str, str] | None = None) -> Parsed:
    """The kind and arguments of `question` about a transcript with these speakers; `roles`
    maps words such as "host" or "me" to a speaker."""
    args = question_args(question, speakers, roles)
    model = classifier()
    probs = model.predict_proba([features(args.skeleton)])[0]
    best = int(probs.argmax())
    return Parsed(str(model.classes_[best]), float(probs[best]), args)
