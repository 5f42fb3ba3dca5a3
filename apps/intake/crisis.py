"""Crisis language in the free text people type into the website's forms.

When a message reads like a crisis (suicide, overdose, self-harm; English or Spanish) the
submission is marked urgent, staff are paged at once and the 201 carries ``CRISIS_RESOURCES``.

The detector is a list of phrases, not a model, so that anyone can read why a message was
flagged and add a phrase with a test row (see ``docs/crisis-detection.md``). It works in three
steps on each text:

1. ``normalize``: casefold, strip accents, drop apostrophes ("don't" and "dont" read alike),
   expand "O.D.'d", squeeze letters typed three or more times ("dieee"), turn sentence
   punctuation into clause breaks (`` | ``) and everything else into single spaces.
2. Look for every phrase of every signal, at every word start of each clause (phrases may
   overlap, so one negated phrase never hides another). A phrase that overlaps a known
   harmless idiom (``BENIGN_PHRASES``: "suicide squad", "overdose prevention", "cut myself
   some slack") is skipped.
3. A phrase is negated only when a negation word (``NEGATORS``: "not", "never", "denies", "no",
   "nunca", "sin"…) stands at most ``NEGATION_WINDOW`` words before it in the same clause with no
   scope breaker in between (``NEGATION_BREAKERS``: "but", "if", "know", "and"…). Phrases whose
   meaning is itself negative carry their own negation ("no quiero vivir", "don't want to live",
   "no reason to live"), so the look-back starts before them and cannot cancel them.

The trade-off is deliberate: in doubt, flag. A false positive costs a staff member a quick,
kind phone call; a false negative can cost a life. So past history ("attempted suicide in
2019"), a loved one's crisis ("my son overdosed"), hyperbole ("lol I want to die") and promises
that imply a history ("I won't cut myself again", "ya no me corto") are all flagged; only a
plain, nearby negation ("not suicidal", "no tengo pensamientos suicidas") is not.

Design notes, beyond "phrases and negations":

- A third, short list of benign idioms. A negation list cannot tell "suicide squad", "overdose
  prevention" or "cortarme el pelo" from a crisis; narrowing the crisis phrases instead would
  lose real ones ("I'm scared he'll overdose").
- Clause breaks. Punctuation ends a negation's reach, so "No, I want to die" is flagged; the
  window alone would have read it as "no … want to die".
- One regex per signal with a zero-width lookahead, so matches may overlap and the phrase lists
  stay plain tuples of strings that tests can check one by one.
- ``crisis_assess`` takes ``None`` too: optional form fields arrive as ``None`` or ``""``.
- ``CRISIS_RESOURCES`` adds one line on what to do for an overdose (call 911, give naloxone,
  stay), since overdose is the crisis this center hears about most.

Pure Python: no Django, no I/O, no state beyond the regexes compiled once at import.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class CrisisSignal(StrEnum):
    """A kind of crisis language; the value is what ``Submission.crisis_signals`` stores."""

    SUICIDE = "suicide"
    OVERDOSE = "overdose"
    SELF_HARM = "self_harm"


# --------------------------------------------------------------------------------------------
# Phrase data. Patterns are regular expressions over *normalized* text: lowercase ASCII letters
# and digits, single spaces, no apostrophes ("dont", "im", "hes"), no accents ("dano",
# "suicidio"). Each is wrapped in word boundaries when compiled. Keep them readable: one idea
# per line, a comment when the reason is not obvious, and a test row in
# tests/intake/data/crisis_phrases.csv for every line you add.
# --------------------------------------------------------------------------------------------

# "myself" and the loved one's forms: a parent writing "he tried to kill himself" is a crisis.
_SELF = (
    r"(?:my ?self|myslef|my ?selfe|him ?self|her ?self|them ?selves|them ?self|themselfs"
    r"|your ?self|ur ?self|our ?selves)"
)
_POSSESSIVE = r"(?:my|his|her|their|your)"
# Drugs people say they took "too much" of. A closed list, so "took too much time" is not one.
_DRUGS = (
    r"(?:pills|meds|medications?|medicine|tablets|xanax|xans|bars|benzos|oxys?|oxycodone|percs?"
    r"|percocets?|opioids|opiates|fentanyl|fent|heroin|dope|tylenol|ketamine|coke|cocaine|meth"
    r"|molly|ecstasy|insulin)"
)
_NALOXONE = r"(?:narcan|naloxone|naloxona)"

SUICIDE_PHRASES: Final[tuple[str, ...]] = (
    # suicide, suicidal, suicidio, suicidarme, suicidas... and the misspellings people type:
    # suiside, sucide, sucidal, suicdal, suacide, suicidial. The vowel after the c/s must be an
    # i or y, so Spanish "sucede"/"sucedio" (happens/happened) never match.
    r"su[aeiy]{0,2}[cs]+[iy]{0,2}d[a-z0-9]*",
    # Algospeak used to dodge social-media filters; people keep using it elsewhere.
    r"sewer ?slide\w*",
    r"un ?aliv(?:e|ed|es|ing)",
    # Texting shorthand for "kill myself" ("kmsl", killing myself laughing, is not this word).
    r"kms",
    r"kill?(?:s|ing|ed|in)? ?" + _SELF,
    r"(?:end|ends|ending|ended|take|takes|taking|took|taken) " + _POSSESSIVE + r" (?:own )?life",
    r"(?:end|ending|ended) it all",
    r"(?:end|ending|ended) everything",
    r"(?:put|putting) an end to (?:it all|" + _POSSESSIVE + r" life)",
    r"(?:want|wants|wanted|wanting|wanna|wana) (?:to |2 )?die",
    r"(?:ready|deserve|deserves) to die",
    r"rather (?:be dead|die|not be alive|not exist)",
    r"better off (?:dead|without me|if i (?:was|were) (?:dead|gone))",
    r"wish(?:ed|es)? (?:i|he|she) (?:was|were|could|would) (?:just )?(?:dead|die|never born)",
    r"wish(?:ed|es)? (?:i|he|she) (?:wasnt|was not|werent|were not) (?:alive|here|born|around)",
    # These carry their own negation on purpose: the look-back starts before "dont".
    r"(?:dont|do not|doesnt|does not|didnt|did not|no longer|not) (?:really |even )?"
    r"(?:want|wanna|wana|wanting) (?:to |2 )?(?:live|be alive|exist|wake up|be here anymore"
    r"|keep living|go on)",
    r"(?:not sure|dont know|do not know|unsure) (?:if|whether) (?:i|he|she) (?:want|wants|wanna)"
    r" to (?:live|be alive|keep living|go on)",
    r"(?:no|(?:dont|do not|doesnt|does not|cant|cannot|can not) (?:see|have|find|got) (?:a|any))"
    r" reasons? to (?:live|keep living|go on|stay alive|be alive)",
    r"nothing (?:left )?to live for",
    r"no (?:point|use) (?:in )?(?:living|going on|being alive|staying alive)",
    r"(?:isnt|is not|not|aint|no longer) worth living",
    r"(?:cant|cannot|can not) (?:go on|keep) (?:living|anymore|like this anymore)",
    r"(?:hang|hangs|hanging|hanged|shoot|shoots|shooting|shot|drown|drowning|poison|poisoning"
    r"|suffocate|suffocating) ?" + _SELF,
    r"(?:jump|jumps|jumping|jumped) (?:off|from) (?:a|the|that) (?:bridge|building|roof|cliff"
    r"|overpass|balcony|window)",
    r"(?:jump|jumping|jumped|step|stepped|walk|walked) in front of (?:a|the)"
    r" (?:train|car|bus|truck)",
    r"slit " + _POSSESSIVE + r" (?:own )?(?:wrists?|throat)",
    r"(?:goodbye|farewell) (?:note|letter)",
    r"thoughts (?:of|about) (?:dying|ending it|ending " + _POSSESSIVE + r" life)",
    # A deliberate overdose is a suicide attempt as well as an overdose.
    r"(?:tried|trying|try|tries|want|wants|wanted|going|gonna|planning|plans|plan|attempted"
    r"|attempt|attempting) to (?:overdose|od)",
    r"(?:overdose|overdosed|od|oded) on purpose",
    r"intentional(?:ly)? (?:overdose|overdosed|od|oded)",
    # Spanish.
    r"(?:quiero|quiere|queria|quisiera|quisiese|deseo|desea|quieren) "
    r"(?:morir(?:me|se)?|estar muert[oa]s?)",
    r"ganas de morir(?:me|se)?",
    # "matarme" (kill myself), "me voy a matar", "se mato" (killed himself).
    r"mat(?:arme|arse|andome|andose)",
    r"(?:me|se) (?:voy|va|iba|van|quiero|quiere|queria) a? ?matar",
    r"se mato",
    r"quitar(?:me|se|le) la vida",
    r"(?:me|se) (?:quite|quito|quitara|quitaria) la vida",
    r"(?:acabar|terminar) con (?:mi|su) (?:propia )?vida",
    r"acabar con todo",
    # Carries its own "no": "ya no quiero vivir" is a crisis, "no quiero morir" is not.
    r"no (?:quiero|quiere|queria|quisiera) (?:vivir|seguir viviendo|seguir con vida|estar viv[oa]"
    r"|existir|despertar)",
    r"(?:no tengo|no tiene|sin) (?:ganas|razon|razones|motivos?) (?:de|para) (?:vivir|seguir)",
    r"no vale la pena (?:vivir|seguir)",
    r"la vida no vale la pena",
    r"(?:estaria|estarian|estarias|estaran) mejor (?:muert[oa]s?|sin mi)",
    r"mejor muert[oa]",
    r"ahorcar(?:me|se)",
    r"(?:pegar|dar)(?:me|se) un tiro",
    r"tirar(?:me|se) (?:de|del|desde|por) (?:un|una|el|la) (?:puente|edificio|ventana|balcon"
    r"|techo|azotea)",
    r"cortar(?:me|se) las venas",
    r"pensamientos de muerte",
)

OVERDOSE_PHRASES: Final[tuple[str, ...]] = (
    # overdose, overdosed, overdosing, "over dose", "overdossed", "overdoze". Bare "overdose" is
    # flagged ("worried he'll overdose"); program vocabulary is in BENIGN_PHRASES.
    # "overdoes" (does too much) is not matched: [sz] must follow "do".
    r"over ?do[sz]+(?:e|es|ed|ing|e?d)?",
    # Shorthand: "OD", "ODs", "ODed", "ODing"; "OD'd" and "O.D." are rewritten to these by
    # normalize(). "odd" is an ordinary word, so it is never matched.
    r"od(?:s|ed|ing|ding)?",
    r"(?:took|taken|take|takes|taking|swallowed|swallow|swallowing|ate|popped|snorted|shot up)"
    r" (?:way )?(?:too many|too much|a (?:whole )?bottle of|the whole bottle of"
    r"|an entire bottle of|a handful of|a fistful of) (?:of )?(?:\w+ )?" + _DRUGS,
    r"(?:took|swallowed|popped) all (?:of )?(?:my|his|her|their|the) (?:\w+ )?(?:pills|tablets)",
    # A person not breathing after using is the overdose an onlooker describes, usually
    # without the word: "fentanyl, he's not breathing", "can't wake her up", "lips are blue".
    r"(?:not|isnt|wasnt|stopped|stop|barely) breathing",
    r"(?:cant|cannot|can not|couldnt|could not) (?:wake|get) (?:him|her|them|my \w+) up",
    r"(?:wont|wouldnt|will not|would not|not) wak(?:e|ing) up",
    r"unresponsive",
    r"(?:turning|turned|going) blue",
    r"(?:lips|face|skin) (?:is |are |were |was )?(?:turning |turned |going )?blue",
    r"blue lips",
    r"(?:died|dying|dead|death|deaths) (?:of|from) (?:fentanyl|heroin|opioids|opiates|pills|drugs)",
    # Naloxone only when it was (or must be) *given*; "Narcan training" is a question about a
    # class, and someone mid-overdose needs 911, not our form.
    r"(?:gave|give|giving|given|used|use|using|needed|need|needs|administered|administer"
    r"|had to (?:use|give)|hit (?:him|her|them) with|revived (?:him|her|them) with"
    r"|brought (?:him|her|them) back with|sprayed) (?:(?:him|her|them|me|my \w+) )?"
    r"(?:a |some |the |two |2 |another )?(?:doses? of )?" + _NALOXONE,
    r"narcan(?:ned|ed)",
    # Spanish. "sobredosis", "sobredosificó"; prevention vocabulary is in BENIGN_PHRASES.
    r"sobre ?dosi[a-z]*",
    r"se (?:le )?(?:paso|pasaron) (?:de|con) (?:las |la |los )?(?:pastillas|drogas|dosis|pastis)",
    r"se le (?:paso|fue) la mano con",
    r"(?:se )?(?:tomo|tome|trago|tomaron|trague|tomaste) (?:todas las|muchas|demasiadas"
    r"|un frasco de|un bote de|una caja de|todo el frasco de) (?:\w+ )?pastillas",
    r"(?:no respira|dejo de respirar|no esta respirando|ya no respira)",
    r"no (?:lo|la|los|las)? ?(?:puedo|podemos|pude|pudimos) despertar",
    r"no (?:despierta|reacciona)",
    r"labios morados",
    r"(?:le|les) (?:di|dimos|dieron|pusimos|puse|pusieron) " + _NALOXONE,
)

SELF_HARM_PHRASES: Final[tuple[str, ...]] = (
    r"(?:cut|cuts|cutting|cuttin|cutted) ?" + _SELF,
    r"cut (?:on )?" + _POSSESSIVE + r" (?:own )?(?:wrists?|arms?|legs?|thighs?|skin|stomach)",
    r"slit " + _POSSESSIVE + r" (?:own )?wrists?",
    # Bare "cutting" only when it ends the clause or is "again"/"on her arms": "she's been
    # cutting." but not "cutting back on drinking" or "cutting class".
    r"(?:been|is|was|started|starting|keeps|keep|still|caught (?:him|her|them)|hes|shes|im"
    r"|theyre) cutting(?= again| on (?:my|his|her|their) | (?:my|his|her|their) (?:arms|wrists"
    r"|legs|thighs)|$)",
    r"(?:hurt|hurts|hurting|harm|harms|harming|harmed|injure|injures|injuring|injured|burn|burns"
    r"|burning|burned|burnt|punish|punishing|scratch|scratching|starve|starving|mutilate"
    r"|mutilating) ?" + _SELF,
    r"self ?harm[a-z]*",
    r"self ?injur[a-z]*",
    r"self ?mutilat[a-z]*",
    # Clinical shorthand for non-suicidal self-injury.
    r"nssi",
    # Spanish. "cortarme" (cut myself); hair, nails and the like are in BENIGN_PHRASES.
    r"cort(?:arme|arse|andome|andose)",
    r"(?:me|se) (?:corto|corta|cortaba|cortan|esta cortando|estoy cortando|sigue cortando)",
    r"hacer(?:me|se) dano",
    r"(?:me|se) (?:hago|hace|hacia|hacen|hice|hizo|esta haciendo|estoy haciendo) dano",
    r"lastim(?:arme|arse|andome|andose)",
    r"(?:me|se) (?:lastimo|lastima|lastimaba|esta lastimando|estoy lastimando)",
    r"auto ?lesi[a-z]*",
)

# Harmless idioms and program vocabulary. A crisis phrase that overlaps one of these is skipped.
# Keep this list short and specific: every line here is a way to miss a real crisis.
BENIGN_PHRASES: Final[tuple[str, ...]] = (
    r"suicide (?:squad|doors?|sprints?|runs?|drills?|king|blonde|squeeze|bomb[a-z]*)",
    r"suicid[a-z]* (?:prevention|awareness) (?:month|week|day|training|course|class|walk"
    r"|certification)",
    r"over ?dos(?:e|es) (?:prevention|awareness|education|training|response|reversal|kits?"
    r"|programs?|statistics|stats|rates?|epidemic|data|research)",
    r"(?:prevent|prevents|preventing|prevention of) (?:an |opioid |drug )?over ?dos(?:e|es)",
    r"(?:prevencion|prevenir|prevengan) (?:de )?(?:una |la |las )?sobre ?dosis",
    _NALOXONE + r" (?:training|trainings|kits?|class|classes|program|education|info|information"
    r"|vending|certification|entrenamiento|capacitacion)",
    r"(?:learn|learning|teach|teaching|taught) (?:me |us )?(?:how )?to (?:use|give) " + _NALOXONE,
    # Hard work, not harm: "I've been killing myself at work to pay for his rehab".
    r"(?:killing|killed) " + _SELF + r" (?:at work|working|at the gym|to pay|trying|over this"
    r"|with work)",
    r"kill(?:ing)? " + _SELF + r" laughing",
    r"(?:shoot|shot|shooting) " + _SELF + r" in the foot",
    r"(?:cut|cutting) " + _SELF + r" (?:off|some slack|a break|short|shaving|while shaving|cooking"
    r"|by accident|accidentally)",
    # The injury that started many opioid stories: "I hurt myself at work and got hooked".
    r"(?:hurt|hurting|injured|injuring|burned|burnt|burning) " + _SELF + r" (?:at work|on the job"
    r"|at the gym|working out|lifting|playing|skiing|cooking|falling|in a fall"
    r"|in (?:a|an|the) (?:car )?(?:accident|crash|wreck))",
    r"(?:take|takes|taking|took|taken) " + _POSSESSIVE + r" (?:own )?life back",
    # Spanish: haircuts, working oneself to death, dying of laughter or embarrassment.
    r"cort(?:ar|arme|arse|o|a|ando|andome|andose) (?:el|la|las|los|mi|su) (?:pelo|cabello|unas"
    r"|barba|fleco|flequillo|puntas|bigote|cesped|pasto)",
    r"(?:matarme|matarse|me mato|se mato|matandome|matandose) (?:trabajando|estudiando|de risa"
    r"|a trabajar|en el trabajo)",
    r"morir(?:me|se)? de (?:risa|ganas|hambre|sueno|calor|frio|verguenza|aburrimiento|amor"
    r"|envidia|miedo)",
    r"(?:dano|lastim[a-z]*) (?:en )?(?:la|el|los|las|mi|su|mis|sus) (?:espalda|rodillas?"
    r"|piernas?|brazos?|manos?|hombros?|cuello|tobillos?|cadera|pies?|cabeza|dedos?)",
)

# Words that negate a phrase standing shortly after them ("not suicidal", "no tengo
# pensamientos suicidas", "denies suicidal ideation", "never overdosed").
NEGATORS: Final[frozenset[str]] = frozenset(
    {
        "not", "no", "never", "dont", "doesnt", "didnt", "isnt", "wasnt", "arent", "werent",
        "aint", "wont", "wouldnt", "havent", "hasnt", "hadnt", "denies", "denied", "deny",
        "denying", "without", "nor", "neither", "zero", "non", "nunca", "jamas", "sin", "ni",
        "niega", "nego", "tampoco", "ningun", "ninguna", "ninguno", "nada",
    }
)  # fmt: skip
# Words that end a negation's reach: a new proposition, a doubt, or a conjunction. "I don't
# know if he overdosed", "no sé si quiere morir", "no insurance and I want to die".
NEGATION_BREAKERS: Final[frozenset[str]] = frozenset(
    {
        "but", "though", "although", "however", "except", "and", "or", "if", "whether", "why",
        "because", "cuz", "cause", "since", "until", "unless", "know", "knew", "knows", "sure",
        "idea", "one", "matter", "wonder", "stop", "stopped", "help",
        # Verbs that open a new proposition: "I never thought he would overdose" is a report,
        # and "I don't want to hurt myself" is often a plea, so both stay flagged.
        "think", "thought", "imagine", "imagined", "expect", "expected", "believe", "believed",
        "realize", "realized", "realise", "realised", "notice", "noticed", "see", "saw", "say",
        "said", "says", "tell", "told", "admit", "admitted", "want", "wants", "wanted", "wanna",
        "pero", "sino", "aunque", "y", "e", "o", "u", "si", "porque", "hasta", "sabe", "sabia",
        "dejar", "dejo", "pense", "pensaba", "crei", "creia", "dijo", "quiero",
        "quiere", "queria",
    }
)  # fmt: skip
# Spanish auxiliaries do not count towards the window: "no he tenido | pensamientos suicidas".
_AUXILIARIES: Final[frozenset[str]] = frozenset({"he", "ha", "has", "hemos", "han", "habia"})
# "no" followed by a subject is an interjection, not a negation: "no he overdosed again".
_INTERJECTION_FOLLOWERS: Final[frozenset[str]] = frozenset(
    {"i", "im", "ive", "id", "ill", "he", "hes", "she", "shes", "they", "theyre", "we", "you",
     "my", "our", "his", "her", "their"}
)  # fmt: skip
# After the phrase, these say it has happened before: "I won't hurt myself again" is a history.
_RECURRENCE_AFTER: Final[tuple[str, ...]] = ("anymore", "any more", "again", "otra vez", "de nuevo")
# How many words before a phrase a negator may stand: "not going to | hurt myself".
NEGATION_WINDOW: Final[int] = 3

CRISIS_RESOURCES: Final[dict[str, object]] = {
    "message": "If you or someone you love is in danger right now, help is available 24/7.",
    "lifeline": {
        "name": "988 Suicide & Crisis Lifeline",
        "call": "988",
        "text": "988",
        "chat": "https://988lifeline.org/chat/",
    },
    "emergency": {"name": "Emergency services", "call": "911"},
    "overdose": (
        "If someone may have overdosed: call 911, give naloxone (Narcan) if you have it, "
        "and stay with them."
    ),
    "spanish": (
        "Si usted o un ser querido está en peligro: llame al 988 y oprima 2, o envíe AYUDA "
        "por mensaje de texto al 988. En una emergencia, llame al 911."
    ),
}
"""What the API returns under ``crisis_resources``. Read-only: copy it before changing it."""


# --------------------------------------------------------------------------------------------
# Normalization.
# --------------------------------------------------------------------------------------------

_APOSTROPHES = "'’‘`´ʼ′"  # the look-alikes phones and keyboards send
_DOTTED_OD = re.compile(r"\bo\.\s?d\b\.?")
_OD_APOSTROPHE_D = re.compile(rf"\bod[{_APOSTROPHES}]\s?d\b")
_APOSTROPHE = re.compile(f"[{_APOSTROPHES}]")
# Sentence punctuation, brackets, quotes and line breaks end a clause; a negation never
# reaches across one ("No, I want to die" is not "no ... want to die").
_CLAUSE_BREAK = re.compile(r"[.!?;:,()\[\]{}\"“”«»¿¡…•·|\n\r—–]+")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_LETTER_RUN = re.compile(r"([a-z])\1{2,}")


def _clauses(text: str) -> list[str]:
    """The normalized clauses of ``text``, empty ones dropped."""
    folded = text.casefold()
    # "O.D." and "OD'd" must survive the punctuation and apostrophe rules below.
    folded = _DOTTED_OD.sub("od", folded)
    folded = _OD_APOSTROPHE_D.sub("oded", folded)
    folded = _APOSTROPHE.sub("", folded)
    if folded.isascii():
        # Nothing to decompose (most messages), and the per-letter loop below is the costly part.
        unaccented = folded
    else:
        decomposed = unicodedata.normalize("NFKD", folded)
        unaccented = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    clauses = []
    for raw in _CLAUSE_BREAK.split(unaccented):
        words = _NOT_WORD.sub(" ", raw)
        words = _LETTER_RUN.sub(r"\1", words).strip()
        if words:
            clauses.append(words)
    return clauses


def normalize(text: str) -> str:
    """Return ``text`` as the phrase lists see it: clauses of plain words joined by `` | ``.

    >>> normalize("I'm NOT suicídal!!  Just   need help 😔")
    'im not suicidal | just need help'
    """
    return " | ".join(_clauses(text))


# --------------------------------------------------------------------------------------------
# Matching.
# --------------------------------------------------------------------------------------------


def _compile(phrases: Iterable[str]) -> re.Pattern[str]:
    """One regex that finds every phrase at every word start, overlaps included.

    The zero-width lookahead lets ``finditer`` try each position, so a negated phrase never
    swallows a later one; group 1 is the phrase that matched there.
    """
    alternatives = "|".join(f"(?:{phrase})" for phrase in phrases)
    return re.compile(rf"\b(?=((?:{alternatives}))\b)")


_SIGNAL_PATTERNS: Final[tuple[tuple[CrisisSignal, re.Pattern[str]], ...]] = (
    (CrisisSignal.SUICIDE, _compile(SUICIDE_PHRASES)),
    (CrisisSignal.OVERDOSE, _compile(OVERDOSE_PHRASES)),
    (CrisisSignal.SELF_HARM, _compile(SELF_HARM_PHRASES)),
)
_BENIGN: Final[re.Pattern[str]] = _compile(BENIGN_PHRASES)


def _is_negated(clause: str, start: int, end: int) -> bool:
    """Whether a negator shortly before ``clause[start:end]`` takes it back."""
    after = " ".join(clause[end:].split()[:2])
    if any(after == word or after.startswith(f"{word} ") for word in _RECURRENCE_AFTER):
        return False  # "won't hurt myself again": it has happened before.
    before = clause[:start].split()
    words = before + clause[start:].split()  # to look at the words after a negator
    counted = 0
    for i in range(len(before) - 1, -1, -1):
        word = before[i]
        if word not in _AUXILIARIES:
            counted += 1
        if counted > NEGATION_WINDOW:
            return False
        if word in NEGATION_BREAKERS:
            return False
        if word not in NEGATORS:
            continue
        if word == "non" and i != len(before) - 1:
            continue  # a prefix: "non-suicidal self-injury" is still self-injury.
        if word == "no" and _no_is_not_a_negation(words, i):
            continue
        return True
    return False


def _no_is_not_a_negation(words: list[str], i: int) -> bool:
    """Whether ``words[i] == "no"`` is a history or an interjection rather than a denial."""
    preceding = words[i - 1] if i > 0 else ""
    following = words[i + 1] if i + 1 < len(words) else ""
    after_that = words[i + 2] if i + 2 < len(words) else ""
    if following in {"longer", "more"} or preceding == "ya":
        return True  # "I no longer cut myself", "ya no me corto": it happened.
    if following == "he" and after_that.endswith(("ado", "ido")):
        return False  # Spanish perfect: "no he intentado suicidarme" is a denial.
    # "no he overdosed again", "no I want to die": an interjection before a subject.
    return following in _INTERJECTION_FOLLOWERS


def _overlaps(span: tuple[int, int], others: list[tuple[int, int]]) -> bool:
    start, end = span
    return any(start < other_end and other_start < end for other_start, other_end in others)


def _clause_signals(clause: str) -> set[CrisisSignal]:
    benign = [match.span(1) for match in _BENIGN.finditer(clause)]
    found: set[CrisisSignal] = set()
    for signal, pattern in _SIGNAL_PATTERNS:
        for match in pattern.finditer(clause):
            span = match.span(1)
            if _overlaps(span, benign) or _is_negated(clause, *span):
                continue
            found.add(signal)
            break
    return found


@dataclass(frozen=True)
class CrisisAssessment:
    """What the detector saw: the kinds of crisis language, in ``CrisisSignal`` order, never
    the text itself (so it can be stored and logged without PHI)."""

    signals: tuple[CrisisSignal, ...] = ()

    @property
    def is_crisis(self) -> bool:
        """True when any crisis language was seen: urgent, page staff, answer with 988/911."""
        return bool(self.signals)


def crisis_assess(*texts: str | None) -> CrisisAssessment:
    """Assess every free-text field of one submission at once.

    Each text is read on its own, so a phrase never spans two fields. ``None`` and empty
    strings are fine and read as nothing.
    """
    found: set[CrisisSignal] = set()
    for text in texts:
        if not text:
            continue
        for clause in _clauses(text):
            found |= _clause_signals(clause)
    return CrisisAssessment(signals=tuple(signal for signal in CrisisSignal if signal in found))
