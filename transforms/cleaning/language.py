"""Language tags: normalizing feed-supplied tags and detecting missing ones.

Detection uses py3langid (a maintained, dependency-light port of langid.py).
Its model is ~2 MB compressed and takes a noticeable moment to load, so it is
loaded lazily on first use and cached per process (Beam workers reuse it
across bundles) instead of at import time.
"""

from __future__ import annotations

import functools
import re
from typing import Optional

from .text import normalize_text

__all__ = ["detect_language", "normalize_language", "load_identifier"]

# ISO 639-1 code -> its ISO 639-2/T and 639-2/B three-letter codes.
_ISO639 = """
aa aar|ab abk|ae ave|af afr|ak aka|am amh|an arg|ar ara|as asm|av ava|ay aym
az aze|ba bak|be bel|bg bul|bh bih|bi bis|bm bam|bn ben|bo bod tib|br bre
bs bos|ca cat|ce che|ch cha|co cos|cr cre|cs ces cze|cu chu|cv chv|cy cym wel
da dan|de deu ger|dv div|dz dzo|ee ewe|el ell gre|en eng|eo epo|es spa|et est
eu eus baq|fa fas per|ff ful|fi fin|fj fij|fo fao|fr fra fre|fy fry|ga gle
gd gla|gl glg|gn grn|gu guj|gv glv|ha hau|he heb|hi hin|ho hmo|hr hrv|ht hat
hu hun|hy hye arm|hz her|ia ina|id ind|ie ile|ig ibo|ii iii|ik ipk|io ido
is isl ice|it ita|iu iku|ja jpn|jv jav|ka kat geo|kg kon|ki kik|kj kua|kk kaz
kl kal|km khm|kn kan|ko kor|kr kau|ks kas|ku kur|kv kom|kw cor|ky kir|la lat
lb ltz|lg lug|li lim|ln lin|lo lao|lt lit|lu lub|lv lav|mg mlg|mh mah
mi mri mao|mk mkd mac|ml mal|mn mon|mr mar|ms msa may|mt mlt|my mya bur|na nau
nb nob|nd nde|ne nep|ng ndo|nl nld dut|nn nno|no nor|nr nbl|nv nav|ny nya
oc oci|oj oji|om orm|or ori|os oss|pa pan|pi pli|pl pol|ps pus|pt por|qu que
rm roh|rn run|ro ron rum|ru rus|rw kin|sa san|sc srd|sd snd|se sme|sg sag
si sin|sk slk slo|sl slv|sm smo|sn sna|so som|sq sqi alb|sr srp|ss ssw|st sot
su sun|sv swe|sw swa|ta tam|te tel|tg tgk|th tha|ti tir|tk tuk|tl tgl|tn tsn
to ton|tr tur|ts tso|tt tat|tw twi|ty tah|ug uig|uk ukr|ur urd|uz uzb|ve ven
vi vie|vo vol|wa wln|wo wol|xh xho|yi yid|yo yor|za zha|zh zho chi|zu zul
"""

# Deprecated ISO 639-1 codes and common ISO 639-3 individual-language codes
# that feeds emit for a macrolanguage (e.g. "cmn" for Mandarin Chinese).
_ALIASES = {
    "iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro", "sh": "sr",
    "cmn": "zh", "yue": "zh", "arb": "ar", "pes": "fa", "prs": "fa",
    "zsm": "ms", "swh": "sw", "fil": "tl", "ekk": "et", "lvs": "lv",
    "azj": "az", "uzn": "uz", "khk": "mn", "plt": "mg", "ydd": "yi",
    "npi": "ne", "ory": "or", "pbt": "ps", "nor": "no",
}


def _build_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for entry in _ISO639.replace("\n", "|").split("|"):
        codes = entry.split()
        if codes:
            for code in codes:
                table[code] = codes[0]
    table.update(_ALIASES)
    return table


_TO_ISO639_1 = _build_table()
_TAG_SPLIT = re.compile(r"[-_\s.;,]")

# Detection thresholds. Below ~15 letters langid is close to guessing, and
# below 0.50 normalized probability it mostly reflects mixed/boilerplate text;
# in both cases "unknown" is more useful downstream than a wrong label.
_MIN_LETTERS = 15
_MIN_CONFIDENCE = 0.50
# langid's features saturate quickly; the first few KB decide the language and
# capping keeps per-article cost bounded.
_MAX_CHARS = 4000


def normalize_language(tag: Optional[str]) -> Optional[str]:
    """Map a BCP 47 / ISO 639 tag ("en-US", "EN", "eng", "en_GB") to ISO 639-1.

    Returns None for empty, undetermined ("und", "mul", "zxx") or unknown tags
    so callers can fall back to detection.
    """
    if not tag or not isinstance(tag, str):
        return None
    primary = _TAG_SPLIT.split(tag.strip().lower(), maxsplit=1)[0]
    return _TO_ISO639_1.get(primary)


@functools.lru_cache(maxsize=1)
def _identifier():
    """Load the py3langid model once per process, on first use."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def load_identifier() -> None:
    """Load the model now (a DoFn's ``setup``), not on the first article that needs it (about 1 s a process)."""
    _identifier()


def detect_language(text: str) -> Optional[str]:
    """Detect the ISO 639-1 language of ``text``, or None when unsure.

    None is returned for text with too few letters or when the classifier's
    normalized confidence is low, rather than a guess.
    """
    if not text:
        return None
    sample = normalize_text(text[: _MAX_CHARS * 2])[:_MAX_CHARS]
    if sum(ch.isalpha() for ch in sample) < _MIN_LETTERS:
        return None
    lang, confidence = _identifier().classify(sample)
    if confidence < _MIN_CONFIDENCE:
        return None
    return normalize_language(lang)
