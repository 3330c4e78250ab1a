"""The one text normalisation that features, signals and lexicon entries share."""

import unicodedata


def normalise(text: str) -> str:
    """NFKC, lower case, Turkish dotted capitals as plain i, ß as ss, zero-width non-joiners as spaces.

    Lower-casing Turkish İ gives "i" + a combining dot above, which words keep as a mark, so "İki"
    would be another word than "iki" and match no lexicon entry. German in capitals ("GRÖSSE") and
    Swiss German write ß as ss, so "Größe" is read as "grösse" too. A zero-width non-joiner splits
    Persian compounds (برنامه‌نویسی) without a space, so a word pair read across it needs one."""
    return unicodedata.normalize("NFKC", text).lower().replace("i\u0307", "i").replace("ß", "ss").replace("\u200c", " ")
