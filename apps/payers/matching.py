"""Matching a typed insurance name to a payer slug: pure functions, no database.

People type anything into "insurance provider": the dropdown's slug, a brand ("Cigna"), a product
("Open Access Plus"), a regional Blue ("BCBS of Texas"), a misspelling ("Signa"), a sentence
("I have Aetna through work"), Spanish ("no tengo seguro") or nothing useful ("not sure"). A wrong
guess is worse than no guess: it would quote the wrong network status to someone in distress and
send staff to the wrong payer. So the matcher answers only when the evidence points one way with a
score at or above the threshold; anything else is unresolved and waits for a human.

How a text is read (``text_match``):

1. **Slug**: the text is exactly a directory slug, as the dropdown sends it: score 100.
2. **Phrases**: ``normalize`` makes the text comparable; every run of words up to the longest known
   name is looked up exactly, then with its spaces removed ("United Health Care" meets
   "UnitedHealthcare"). Runs that are not known are compared with rapidfuzz (guards below). The
   whole text as a known name scores 100 (98 with other spacing); a name inside a longer text 95.
3. **One reading**: the longest phrases win over the phrases inside them ("Humana Military" over
   "Humana", "Health Net Federal Services" over "Health Net", "Medicare Advantage" over
   "Medicare"). Phrases that name *no* directory payer (``KNOWN_UNRESOLVED``) veto only their own
   words; ``WHOLE_TEXT_VETOES`` ("not sure", "VA") veto the whole text.
4. **Agreement**: what remains must name one payer. Two readings are explained away first: a
   generic Blue word beside Anthem is Anthem's brand ("Blue Cross Anthem"), and a government
   program beside a private payer that sells it ("Humana Medicare", "Molina Medi-Cal") is that
   payer, who verifies the benefits; unless the text calls the plan a supplement.
5. **No hedging**: a negation or hedge outside the matched phrases ("not", "used to", "maybe",
   "pending") leaves the text unresolved; "no insurance" is itself a phrase, so it still reads.

Fuzzy guards, because short names are close to everything:

- both sides at least ``MIN_FUZZY_CHARS`` long: "UMR" never meets "UHC", "Ohio" never "Oscar";
- a compared run holds a word that is neither filler nor generic ("health", "care", "human"), does
  not start or end on filler ("insurance", "my", "plan") and holds no hedge ("not Humana");
- letters and codes must be identical ("Medicare Part A" is not "Medicare Part C");
- a name scores no more than its weakest distinctive word ("Optima Health" is not "Optum Health");
- two payers within ``AMBIGUITY_MARGIN`` of each other cancel out ("Medica": Medicare or Medicaid?).

Scores are rapidfuzz's ratio on the spaceless form, or on a sound-alike form ("Signa" and "Cigna"),
discounted by ``SOUND_ALIKE_FACTOR``. On tests/payers/data/payer_names.csv the default threshold of
88 makes no wrong guess; 85 already lets "Regency" and "Primera" through as Regence and Premera.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

METHOD_SLUG = "slug"
METHOD_ALIAS = "alias"
METHOD_FUZZY = "fuzzy"
METHOD_NONE = "none"

EXACT_SCORE = 100.0
# A known phrase inside a longer text ("I have Aetna through work"): sure, but not the whole text.
PHRASE_SCORE = 95.0
# The same letters with different spacing ("Unitedhealth care"): as good as exact in practice.
SPACING_SCORE = 98.0
SOUND_ALIKE_FACTOR = 0.95
MIN_FUZZY_CHARS = 5
# Words this short are letters and codes ("Part A", "Part C", "CA", "NJ"): one of them changed is a
# different name however close the letters, so fuzzy matching requires them verbatim.
SHORT_WORD_CHARS = 2
AMBIGUITY_MARGIN = 3.0
# Below this a fuzzy score is not worth ranking at any sensible threshold.
_FUZZY_FLOOR = 60.0
# A form field, not an essay: beyond this many words the rest is ignored, which keeps the cost of a
# pasted paragraph bounded (phrases x names).
MAX_TOKENS = 40

# Words that carry no meaning for matching wherever they stand.
_DROPPED = frozenset({"of", "the", "and"})

# Filler that may surround a name; a fuzzy run may not start or end on one.
_FILLER = frozenset(
    {
        "insurance", "insurances", "ins", "insurer", "insured", "coverage", "covered", "plan",
        "plans", "policy", "ppo", "hmo", "epo", "pos", "hdhp", "hsa", "inc", "co", "company",
        "corp", "llc", "my", "i", "im", "me", "we", "our", "his", "her", "their", "have", "has",
        "had", "got", "is", "its", "it", "thats", "through", "thru", "via", "from",
        "with", "by", "for", "in", "at", "to", "a", "an", "on", "work", "job", "employer",
        "husbands", "wifes", "moms", "dads", "parents", "seguro", "seguros", "aseguranza", "de",
        "la", "el", "mi", "tengo", "es", "con", "por", "del", "y", "card", "member", "id",
    }
)  # fmt: skip

# Words too common to identify a payer on their own: a fuzzy run needs one word outside this set
# and outside the filler, or "human resources" would read as Humana.
_GENERIC = frozenset(
    {
        "health", "healthcare", "care", "medical", "human", "humane", "blue", "cross", "shield",
        "bluecross", "blueshield", "united", "first", "choice", "select", "value", "options",
        "option", "network", "net", "plus", "access", "open", "local", "better", "federal",
        "program", "employee", "employees", "military", "life", "behavioral", "advantage",
        "services", "service", "group", "national", "state", "west", "east", "part", "partners",
        "community", "family", "pay", "private", "cash", "none", "no", "not", "other", "prime",
        "senior", "gold", "silver", "bronze", "platinum", "premier", "basic", "standard",
    }
)  # fmt: skip

# Outside a matched phrase these undo the reading: the text is about a payer the person does not
# (or may not) have. "no insurance" is a self-pay phrase, so its "no" is inside a match.
_HEDGES = frozenset(
    {
        "not", "no", "dont", "doesnt", "didnt", "isnt", "wasnt", "never", "without", "anymore",
        "formerly", "previously", "former", "used", "ex", "lost", "expired", "cancelled",
        "canceled", "terminated", "ended", "except", "unsure", "unknown", "idk", "maybe",
        "perhaps", "possibly", "either", "dunno", "pending", "applied", "applying", "apply",
        "waiting", "termed", "inactive", "previous", "past", "sin", "nunca", "ni", "quizas",
        "talvez", "tal vez",
    }
)  # fmt: skip

# With these, a program beside a private payer is two payers (Medicare primary, a supplement
# secondary), not a private plan selling the program.
_SECONDARY = frozenset({"supplement", "supplemental", "medigap", "secondary", "primary"})

PROGRAM_SLUGS = frozenset({"medicare", "medicaid"})
# Not private payers for the program rule: a person on TRICARE or self-pay is not buying Medicare.
_NOT_PRIVATE = frozenset({"self-pay", "tricare"}) | PROGRAM_SLUGS

# Phrases that name no directory payer, or name one that people would wrongly read into them. They
# veto their own words, so "Medicare Advantage" stays unresolved but "Humana Medicare Advantage"
# reads as Humana. A staff alias with the same key overrides any of these.
KNOWN_UNRESOLVED: dict[str, str] = {
    "medicare advantage": "sold by the private payers (directory: medicare)",
    "medicare advantage plan": "sold by the private payers (directory: medicare)",
    "medicare hmo": "a Medicare Advantage plan, sold by a private payer",
    "medicare ppo": "a Medicare Advantage plan, sold by a private payer",
    "medicare part c": "Medicare Advantage, sold by a private payer",
    "medicare replacement": "Medicare Advantage, sold by a private payer",
    "health net": "Centene's Health Net, not TRICARE's Health Net Federal Services",
    "centene": "owns Ambetter, WellCare and Health Net: names no single payer",
    "medical": "the English word, not Medi-Cal",
    "empire plan": "New York State's plan, split across carriers: not Empire BCBS",
}

# Phrases that make the whole text unresolved wherever they stand: the person does not know, or the
# coverage is the VA's, which TriWest also administers ("TriWest VA CCN" is not TRICARE).
WHOLE_TEXT_VETOES: dict[str, str] = {
    "champva": "the VA's program, not TRICARE",
    "va": "Veterans Affairs care is not TRICARE",
    "va ccn": "the VA Community Care Network (TriWest), not TRICARE",
    "veterans affairs": "Veterans Affairs care is not TRICARE",
    "veterans administration": "Veterans Affairs care is not TRICARE",
    "community care network": "the VA Community Care Network (TriWest), not TRICARE",
    "dont know": "the person does not know",
    "not sure": "the person does not know",
    "unsure": "the person does not know",
    "unknown": "the person does not know",
    "idk": "the person does not know",
    "n a": "not applicable: could mean no insurance or no answer",
    "na": "not applicable: could mean no insurance or no answer",
    "no se": "Spanish: I don't know",
    "no lo se": "Spanish: I don't know",
}

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z][a-z])")
# Copied from a card or a website: "CIGNA™" must not become "cignatm" under NFKD.
_MARKS = re.compile(r"[™®©℠]")
_APOSTROPHES = re.compile(r"['’`´]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# "BCBSTX", "bcbsm": the Blue abbreviation glued to a state code.
_BCBS_STATE = re.compile(r"^bcbs([a-z]{1,3})$")
# The Blue words that name no licensee: beside "Anthem" or "Empire" they are that licensee's brand
# ("Blue Cross Anthem"), not a second payer.
_GENERIC_BLUE = frozenset({"bluecross", "blueshield", "bluecrossblueshield"})


def normalize(text: str) -> str:
    """The comparable form of a name: what ``PayerAlias.normalized`` stores.

    Trademark signs go and camel case is split first ("MediCal", "TriWest"), then accents, case,
    apostrophes ("don't" -> "dont") and punctuation go; dotted initials are joined ("U.H.C." ->
    "uhc"); "of", "the" and "and" are dropped so that "BCBS of Illinois" and "BCBS Illinois" meet;
    the Blue spellings are made one ("Blue Cross", "BlueCross", "BCBS", "BC/BS").
    """
    text = _CAMEL.sub(" ", _MARKS.sub(" ", text))
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char)).casefold()
    text = _APOSTROPHES.sub("", text.replace("&", " and "))
    tokens = _canonical_tokens(_joined_initials(_NON_ALNUM.sub(" ", text).split()))
    return " ".join(token for token in tokens if token not in _DROPPED)


def _joined_initials(tokens: list[str]) -> list[str]:
    out: list[str] = []
    run: list[str] = []
    for token in [*tokens, ""]:  # the empty sentinel flushes a trailing run
        if len(token) == 1:
            run.append(token)
            continue
        # "u h c" is one word; a lone letter ("Part A") stays a word of its own.
        out.extend(["".join(run)] if len(run) > 1 else run)
        run = []
        if token:
            out.append(token)
    return out


def _canonical_tokens(tokens: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        word = tokens[i]
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        state = _BCBS_STATE.match(word)
        if word == "blue" and following in {"cross", "shield"}:
            out.append("blue" + following)
            i += 2
            continue
        if word == "bc" and following == "bs":
            out.extend(["bluecross", "blueshield"])
            i += 2
            continue
        if word == "bcbs":
            out.extend(["bluecross", "blueshield"])
        elif state:
            out.extend(["bluecross", "blueshield", state.group(1)])
        else:
            out.append(word)
        i += 1
    return out


def compact(normalized: str) -> str:
    """The spaceless form: "united health care", "unitedhealth care" and "unitedhealthcare" meet."""
    return normalized.replace(" ", "")


_SOUNDS = (
    (re.compile(r"c(?=[eiy])"), "s"),
    (re.compile(r"ck|q"), "k"),
    (re.compile(r"c"), "k"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"z"), "s"),
    (re.compile(r"x"), "ks"),
    (re.compile(r"y"), "i"),
    (re.compile(r"(.)\1+"), r"\1"),
)


def sound_alike(compacted: str) -> str:
    """A rough English sound key ("signa" and "cigna" -> "signa"; "kaizer" -> "kaiser").

    Only consonant spellings and doubled letters are folded; vowels stay, because folding them
    makes unrelated short names meet ("Molina" and "Malone").
    """
    for pattern, replacement in _SOUNDS:
        compacted = pattern.sub(replacement, compacted)
    return compacted


@dataclass(frozen=True)
class MatcherIndex:
    """Everything the matcher compares against, built once per directory revision.

    ``exact`` and ``spaceless`` map a key to a slug, or to ``None`` for a phrase that must stay
    unresolved (a known negative, or a spaceless form that two payers share); ``vetoes`` are the
    spaceless keys that unresolve a whole text. The ``fuzzy_*`` tuples run in parallel, one entry
    per known name long enough to compare. Plain data only, so it pickles into Django's cache.
    """

    slugs: frozenset[str]
    vetoes: frozenset[str]
    exact: dict[str, str | None]
    spaceless: dict[str, str | None]
    longest: int
    fuzzy_keys: tuple[str, ...]
    fuzzy_sounds: tuple[str, ...]
    fuzzy_distinct: tuple[tuple[str, ...], ...]
    fuzzy_short_words: tuple[frozenset[str], ...]
    fuzzy_slugs: tuple[str | None, ...]


@dataclass(frozen=True)
class TextMatch:
    """What the matcher concluded: ``slug`` is ``None`` when it would not commit to a payer."""

    slug: str | None
    score: float
    method: str


def index_build(
    *, slugs: Iterable[str], names: Iterable[tuple[str, str]], overrides: Iterable[tuple[str, str]]
) -> MatcherIndex:
    """Build the matcher's index from (text, slug) pairs.

    ``names`` are the directory's own names and aliases. ``KNOWN_UNRESOLVED`` and
    ``WHOLE_TEXT_VETOES`` win over them; ``overrides`` (staff mappings: a human looked at that exact
    name) win over everything. Two directory names for different payers under one key cancel out
    rather than pick one.
    """
    exact: dict[str, str | None] = {}
    conflicts: set[str] = set()
    for text, slug in names:
        key = normalize(text)
        if key and exact.setdefault(key, slug) != slug:
            conflicts.add(key)
    exact.update(dict.fromkeys(conflicts))
    exact.update(dict.fromkeys([*KNOWN_UNRESOLVED, *WHOLE_TEXT_VETOES]))
    vetoes = {compact(key) for key in WHOLE_TEXT_VETOES}
    for text, slug in overrides:
        key = normalize(text)
        if key:
            exact[key] = slug
            vetoes.discard(compact(key))

    spaceless: dict[str, str | None] = {}
    for key, target in exact.items():
        squeezed = compact(key)
        # "medi cal" (Medi-Cal) and "medical" (the word) squeeze to one key: neither wins.
        spaceless[squeezed] = target if spaceless.get(squeezed, target) == target else None

    # Every spelling of a name stays: "united healthcare" and "unitedhealthcare" squeeze alike
    # but tell the word-by-word check different things.
    fuzzy = sorted(key for key in exact if len(compact(key)) >= MIN_FUZZY_CHARS)
    return MatcherIndex(
        slugs=frozenset(slugs),
        vetoes=frozenset(vetoes),
        exact=exact,
        spaceless=spaceless,
        longest=max((len(key.split()) for key in exact), default=1),
        fuzzy_keys=tuple(compact(key) for key in fuzzy),
        fuzzy_sounds=tuple(sound_alike(compact(key)) for key in fuzzy),
        fuzzy_distinct=tuple(_distinct(key.split()) for key in fuzzy),
        fuzzy_short_words=tuple(_short_words(key.split()) for key in fuzzy),
        fuzzy_slugs=tuple(spaceless[compact(key)] for key in fuzzy),
    )


def text_match(*, text: str, index: MatcherIndex, threshold: float) -> TextMatch:
    """Resolve ``text`` against ``index``; below ``threshold`` the answer is unresolved.

    The score of an unresolved answer is the best fuzzy score that fell short (what a human
    tuning the threshold wants to see), or 0 when a rule (negative, conflict, hedge) refused.
    """
    slug = text.strip().casefold()
    if slug in index.slugs:
        return TextMatch(slug, EXACT_SCORE, METHOD_SLUG)
    tokens = normalize(text).split()[:MAX_TOKENS]
    candidates, best_short = _candidates(tokens, index, threshold)
    chosen = _one_reading(candidates)
    if not chosen:
        return TextMatch(None, best_short, METHOD_NONE)
    evidence = _evidence(chosen, tokens, index)
    slugs = {c.slug for c in evidence}
    if len(slugs) != 1:
        return _UNRESOLVED
    score = max(c.score for c in evidence)
    if score < threshold:
        # Only when a setting puts the threshold above the fixed phrase scores.
        return TextMatch(None, score, METHOD_NONE)
    method = METHOD_ALIAS if any(c.exact for c in evidence) else METHOD_FUZZY
    return TextMatch(evidence[0].slug, score, method)


_UNRESOLVED = TextMatch(None, 0.0, METHOD_NONE)


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    key: str  # the spaceless form of the known name it matched
    slug: str | None
    score: float
    exact: bool

    @property
    def width(self) -> int:
        return self.end - self.start


def _candidates(
    tokens: list[str], index: MatcherIndex, threshold: float
) -> tuple[list[_Candidate], float]:
    """Every phrase of the text that names something, and the best fuzzy score that fell short."""
    found: list[_Candidate] = []
    best_short = 0.0
    for start in range(len(tokens)):
        for end in range(start + 1, min(len(tokens), start + index.longest) + 1):
            words = tokens[start:end]
            phrase, squeezed = " ".join(words), "".join(words)
            whole = len(words) == len(tokens)
            if phrase in index.exact:
                score = EXACT_SCORE if whole else PHRASE_SCORE
                found.append(_Candidate(start, end, squeezed, index.exact[phrase], score, True))
            elif squeezed in index.spaceless:
                score = SPACING_SCORE if whole else PHRASE_SCORE
                slug = index.spaceless[squeezed]
                found.append(_Candidate(start, end, squeezed, slug, score, True))
            elif _fuzzy_eligible(words, squeezed):
                key, slug, score = _fuzzy(words, index)
                if score >= threshold:
                    found.append(_Candidate(start, end, key, slug, score, False))
                else:
                    best_short = max(best_short, score)
    return found, best_short


def _fuzzy_eligible(words: list[str], squeezed: str) -> bool:
    if len(squeezed) < MIN_FUZZY_CHARS or words[0] in _FILLER or words[-1] in _FILLER:
        return False
    # A near miss must not swallow a "not" and so escape the hedge rule ("not Humana").
    if _HEDGES.intersection(words):
        return False
    return bool(_distinct(words))


def _distinct(words: list[str]) -> tuple[str, ...]:
    """The words that can tell payers apart: not filler, not generic."""
    return tuple(word for word in words if word not in _FILLER and word not in _GENERIC)


def _short_words(words: list[str]) -> frozenset[str]:
    return frozenset(word for word in words if len(word) <= SHORT_WORD_CHARS)


def _similarity(left: str, right: str, right_sound: str | None = None) -> float:
    plain = fuzz.ratio(left, right)
    sound = fuzz.ratio(sound_alike(left), right_sound or sound_alike(right))
    return max(float(plain), float(sound) * SOUND_ALIKE_FACTOR)


def _fuzzy(words: list[str], index: MatcherIndex) -> tuple[str, str | None, float]:
    """The best-scoring known name for one phrase: (its key, its slug, the score).

    A name scores the whole phrase against the whole name, but no more than its weakest
    distinctive word scores against the phrase's words: "Optima Health" is close to "Optum Health"
    letter for letter, yet "optima" is not "optum". Two payers neck and neck answer slug ``None``:
    the phrase then vetoes its words.
    """
    squeezed, short = "".join(words), _short_words(words)
    positions: set[int] = set()
    for keys, query in ((index.fuzzy_keys, squeezed), (index.fuzzy_sounds, sound_alike(squeezed))):
        found = process.extract(query, keys, scorer=fuzz.ratio, score_cutoff=_FUZZY_FLOOR, limit=12)
        positions.update(position for _, _, position in found)
    best: dict[str | None, tuple[float, str]] = {}
    for position in positions:
        if index.fuzzy_short_words[position] != short:
            continue
        key = index.fuzzy_keys[position]
        score = _similarity(squeezed, key, index.fuzzy_sounds[position])
        for needed in index.fuzzy_distinct[position]:
            score = min(score, max(_similarity(word, needed) for word in words))
        slug = index.fuzzy_slugs[position]
        best[slug] = max(best.get(slug, (score, key)), (score, key))
    if not best:
        return "", None, 0.0
    ranked = sorted(best.items(), key=lambda item: item[1], reverse=True)
    slug, (score, key) = ranked[0]
    if len(ranked) > 1 and score - ranked[1][1][0] < AMBIGUITY_MARGIN:
        slug = None
    return key, slug, round(score, 1)


def _one_reading(candidates: list[_Candidate]) -> list[_Candidate]:
    """Longest phrases first; a phrase overlapping one already taken is a reading of its words,
    dropped unless it names the same payer (then it is more evidence for that payer: "Anthem
    HealthKeepers" exactly, inside a fuzzy "Anthem HealthKeepers Plus")."""
    ordered = sorted(candidates, key=lambda c: (-c.width, not c.exact, -c.score, c.start))
    taken: list[_Candidate] = []
    for candidate in ordered:
        overlapping = [t for t in taken if candidate.start < t.end and t.start < candidate.end]
        if all(candidate.slug is not None and t.slug == candidate.slug for t in overlapping):
            taken.append(candidate)
    return taken


def _evidence(chosen: list[_Candidate], tokens: list[str], index: MatcherIndex) -> list[_Candidate]:
    """The phrases that name a payer, after the vetoes, hedges and explained-away readings; an
    empty list when the text must stay unresolved."""
    if any(c.slug is None and c.key in index.vetoes for c in chosen):
        return []
    positives = [c for c in chosen if c.slug is not None]
    if _hedged(tokens, positives):
        return []
    return _specific(positives, tokens)


def _specific(positives: list[_Candidate], tokens: list[str]) -> list[_Candidate]:
    """Drop the phrases that a more specific one explains: a generic Blue word beside Anthem, a
    government program beside the private payer that sells it (unless it is a supplement)."""
    slugs = {c.slug for c in positives}
    if len(slugs) > 1 and "anthem" in slugs:
        positives = [c for c in positives if c.slug != "bcbs" or c.key not in _GENERIC_BLUE]
        slugs = {c.slug for c in positives}
    private = slugs - _NOT_PRIVATE
    if private and slugs & PROGRAM_SLUGS and not _SECONDARY.intersection(tokens):
        positives = [c for c in positives if c.slug not in PROGRAM_SLUGS]
    return positives


def _hedged(tokens: list[str], positives: list[_Candidate]) -> bool:
    covered = {i for c in positives for i in range(c.start, c.end)}
    loose = [token for i, token in enumerate(tokens) if i not in covered]
    pairs = {" ".join(loose[i : i + 2]) for i in range(len(loose) - 1)}
    return bool(_HEDGES.intersection(loose) or _HEDGES.intersection(pairs))
