"""The one text normalisation that features, signals and lexicon entries share."""

import unicodedata

# Single characters typed two ways for one letter or mark, read as one (after NFKC and lower case):
# ß as the ss German writes in capitals and in Switzerland ("GRÖSSE" and "Größe" are one word);
# the curly apostrophes phone keyboards type as the straight one ("father’s");
# the Arabic question mark as "?" (a question's scope ends at it, as at "?");
# the Arabic letters yeh and kaf as the Persian ones Persian text is also typed with (برنامه نويسي),
# and Arabic alef with hamza or madda as the bare alef it is often typed as (الاعداد).
# A zero-width non-joiner splits Persian compounds (برنامه‌نویسی) without a space, so a word pair
# read across it needs one.
_SAME = str.maketrans({"ß": "ss", "’": "'", "‘": "'", "ʼ": "'", "؟": "?", "ي": "ی", "ك": "ک",
                       "أ": "ا", "إ": "ا", "آ": "ا", "\u200c": " "})


def normalise(text: str) -> str:
    """NFKC, lower case, Turkish dotted capitals as plain i, and the variants above as one.

    Lower-casing Turkish İ gives "i" + a combining dot above, which words keep as a mark, so "İki"
    would be another word than "iki" and match no lexicon entry."""
    return unicodedata.normalize("NFKC", text).lower().replace("i\u0307", "i").translate(_SAME)
