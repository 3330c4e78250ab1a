"""Deterministic signals: notation and vocabulary that say code, math, a puzzle or a writing task.

A signal fires on a pattern (regex over the normalised text: code syntax, LaTeX, equations,
phrases) or on a lexicon (single words, stems written `stem*`, looked up per token with a cache,
so a long text costs one dict lookup per word; phrases of two or more words written
`first+second`, looked up per run of adjacent tokens, one pass per phrase length for all
signals). The cue words per language live in `lexicons.py`. The rules baseline scores the
signals directly; the learned model takes them as features next to the words, so a weight
learned in one language carries over to every language the lexicons list. Patterns are flat
alternations whose alternatives start with a literal, so `alternation.py` can merge them into a
prefix tree and give each first character a search of its own, instead of trying every
alternative at every position.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from itertools import filterfalse
from typing import Collection, Iterator, Sequence

from router.classifier import lexicons
from router.classifier.alternation import Alternation
from router.classifier.normalise import normalise
from serve_app.config import Category


@dataclass(frozen=True, slots=True)
class Signal:
    category: Category
    name: str
    weight: float  # the rules baseline's score per hit
    cap: int = 1  # hits counted at most this many times
    pattern: Alternation | None = None
    words: frozenset[str] = field(default_factory=frozenset)
    stems: tuple[str, ...] = ()
    phrases: frozenset[tuple[str, ...]] = field(default_factory=frozenset)  # runs of adjacent tokens
    before_question: bool = False  # the pattern is searched only before the text's last question mark


# People type without accents ("ecuacion", "phuong trinh", "olasilik"), so an entry in Latin or Greek
# letters matches its unaccented form too: always for a word pair (two words are specific), for a
# word or stem only from this length on, as a shorter one is often another language's word
# ("löse" would read English "lose", "hàm" "ham").
_UNACCENTED_MIN = 5
# Unaccented forms that are other common words: Swedish "gator" (streets, not gåtor), German "flache"
# (flat, not Fläche), Vietnamese "bien so" (licence plate, not biến số) and "noi that" (furniture, not
# nói thật), "logica*" (English "logical", not lógica).
_OTHER_WORDS = frozenset({"gator", "flache", "bien+so", "noi+that", "logica*"})
# Letters that Unicode does not decompose into a base letter and an accent.
_BASE_LETTERS = str.maketrans({"ı": "i", "ł": "l", "đ": "d", "ø": "o"})


def _unaccented(entry: str) -> str:
    """The entry without accents if it is written in Latin or Greek letters, else the entry itself."""
    bare = "".join(c for c in unicodedata.normalize("NFD", entry.translate(_BASE_LETTERS)) if not unicodedata.combining(c))
    latin_or_greek = all(c < "\u0250" or "\u0370" <= c < "\u0400" or "\u1e00" <= c < "\u2000" for c in bare)
    return bare if latin_or_greek else entry


def _with_unaccented(entries: list[str]) -> list[str]:
    """The entries and the unaccented forms they are also typed in, each once."""
    extra = [bare for entry in entries if (bare := _unaccented(entry)) != entry
             and ("+" in bare or len(bare.rstrip("*")) >= _UNACCENTED_MIN) and bare not in _OTHER_WORDS]
    return list(dict.fromkeys(entries + extra))


def _phrases(entry: str) -> list[tuple[str, ...]]:
    """The token runs an entry matches: a hyphenated word ("e-mail") as its tokens, the hyphen one of
    them; words joined by + ("hoja+de+cálculo") as written with spaces, and a pair of words with a
    hyphen too ("p+value" is also "p-value", "sous+ensemble" "sous-ensemble")."""
    words = entry.split("+")
    if len(words) == 1:
        parts = entry.split("-")
        return [tuple(token for part in parts for token in ("-", part))[1:]]
    if len(words) == 2 and all(word.isalpha() for word in words):
        return [tuple(words), (words[0], "-", words[1])]
    return [tuple(words)]


def _signal(
    category: Category, name: str, weight: float, cap: int = 1, pattern: str = "", lexicon: str = "",
    before_question: bool = False,
) -> Signal:
    entries = _with_unaccented(normalise(lexicon).split())  # as the text they are matched in
    return Signal(
        category,
        name,
        weight,
        cap,
        Alternation(pattern, re.MULTILINE) if pattern else None,
        frozenset(e for e in entries if not e.endswith("*") and "+" not in e and "-" not in e),
        tuple(e[:-1] for e in entries if e.endswith("*")),
        frozenset(phrase for e in entries if "+" in e or "-" in e for phrase in _phrases(e)),
        before_question,
    )


SIGNALS: tuple[Signal, ...] = (
    # A fence that names a language; a bare fence is layout, its content decides (code syntax).
    _signal("code", "code fence", 2.0, pattern=r"```[ \t]*[a-z][\w+#-]*[ \t]*$"),
    _signal(
        "code",
        "code syntax",
        1.5,
        cap=3,
        pattern=r"^[ \t]*(?:def |class \w|import \w|from [\w.]+ import|#include|public static|fn \w|func \w|"
        r"select (?:distinct )?[\w.()*]+(?:\s*,\s*[\w.()*]+)* from \w|create table|const \w|let \w+ =|"
        r"var \w+ =|function \w|return\b|for \w+(?:, \w+)* in \S+:$|for \w+ in .+; do\b|if __name__|print\(|"
        r"console\.log|</?[a-z]+[ >])|\)\s*\{|(?<![\u0370-\u03ff\s]);$|=>|->|\w::\w|\.\w+\(|==|!=|&&|\|\||c\+\+|c#",
    ),
    _signal("code", "programming terms", 1.0, cap=4, pattern=lexicons.PROGRAMMING_SCRIPTS, lexicon=lexicons.PROGRAMMING),
    # Code without code syntax: git, cron, regular expressions, shells, build tools, pasted errors.
    _signal("code", "developer tools", 1.0, cap=3, pattern=lexicons.DEVELOPER_SCRIPTS, lexicon=lexicons.DEVELOPER_TOOLS),
    # Spreadsheets: a formula (=NAME( after a space), a cell range (A1:B10) or a function name in any of
    # Excel's languages.
    _signal(
        "code",
        "spreadsheet",
        1.0,
        cap=3,
        # Every alternative starts with a literal, so re scans for its first characters (a look-behind
        # first would make it try the whole pattern at every position); a cell range (A1:B10, $A$1:B2)
        # is found at its first digit and its letters are checked behind it.
        pattern=r"=(?<![^\s\"'`:]=)[^\W\d_]{2,}(?:\.[^\W\d_]+)*\(|\d(?:"
        + "|".join(f"(?<={edge}{letters}{dollar}\\d)" for edge in (r"\W", "^") for letters in ("[a-z]", "[a-z][a-z]")
                   for dollar in ("", r"\$"))
        + r")\d{0,5}\s*:\s*\$?[a-z]{1,2}\$?\d{1,6}\b|"
        + "|".join(re.escape(name) + r"\b" for name in lexicons.SPREADSHEET_DOTTED.split()),
        lexicon=lexicons.SPREADSHEET,
    ),
    _signal(
        "code",
        "write-a-function request",
        2.5,
        pattern=r"write an? (?:\w+ )?(?:function|program|class|query|method)\b|"
        r"escribe una? (?:\w+ )?(?:funci[oó]n|programa|script|clase|consulta)\b|"
        r"schreibe (?:eine?n? )?(?:\w+ )?(?:funktion|programm|skript|klasse|abfrage)\b|"
        r"kirjoita (?:\w+ )?(?:funktio|ohjelma|skripti|luokka|kysely)|"
        r"写一?个?.{0,12}(?:函数|程序|脚本|(?<![人这种分])类)|"
        r"编写一?个?.{0,12}(?:函数|程序|脚本|(?<![人这种分])类)",
    ),
    _signal(
        "math",
        "LaTeX",
        2.5,
        cap=2,
        pattern=r"(?:\\(?:frac|sqrt|int|sum|prod|cdot|times|binom|log|ln|sin|cos|tan|pi|infty|le|ge|leq|geq|neq|"
        r"theta|alpha|angle|left|right|mathbf|overline|textit|text)\b|\\[(\[]|\$[^$\s][^$\n]{0,80}?[^$\s\\]\$(?!\d))",
    ),
    _signal(
        "math",
        "equation",
        1.2,
        cap=3,
        # π inside a Greek word is a letter, not pi.
        pattern=r"\d\s*[-+*/^×÷·]\s*\(?\d|\^\s*\d|\d[a-z]\s*[-+]\s*\d|[=<>≤≥]\s*-?\d|√|∫|∑|"
        r"(?<![\u0370-\u03ff\u1f00-\u1fff])π(?![\u0370-\u03ff\u1f00-\u1fff])",
    ),
    _signal(
        "math",
        "math terms",
        1.0,
        cap=4,
        pattern=lexicons.MATH_SCRIPTS + r"|how (?:many|much)\b|wie viele?\b|kuinka (?:monta|paljon)\b|sum of\b|product of\b|"
        r"expected value\b",
        lexicon=lexicons.MATH,
    ),
    _signal("math", "math concepts", 1.0, cap=3, pattern=lexicons.MATH_CONCEPTS_SCRIPTS, lexicon=lexicons.MATH_CONCEPTS),
    _signal("math", "numbers", 0.4, cap=5, lexicon="0 00 000"),  # digit runs, as features.tokens writes them
    _signal(
        "math",
        "quantities",
        0.8,
        cap=2,
        pattern=r"[$£€¥]\s?\d|\d\s?[$£€¥元]|\d\s?(?:%|percent\b|dollars?\b|cents?\b|euros?\b|hours?\b|horas?\b|"
        r"stunden?\b|tuntia\b|minutes?\b|minutos?\b|minuten?\b|miles\b|km\b|kg\b|met(?:er|re)s?\b|metros?\b)",
    ),
    _signal(
        "reasoning",
        "logic-puzzle cues",
        1.6,
        cap=3,
        pattern=r"(?:"+lexicons.PUZZLE_SCRIPTS+r"|"
        r"tells? the truth\b|dice la verdad\b|sagt die wahrheit\b|puhuu? totta\b|dit la vérité\b|"
        r"must be true\b|which of the following is true\b|in what order\b|arranged? in\b|"
        r"fixed order\b|valid argument\b|"
        r"what (?:day|date) (?:is|was|will)\b|turn (?:left|right)\b|take \d+ steps?\b|"
        r"who (?:is|was) (?:the )?\w+est\b|quién es (?:el|la) más\b|wer ist (?:der|die) \w+ste\b|"
        r"what am i\?|qué soy\?|was bin ich\?|mikä olen\?|que suis-je\?|think it through\b|reason it out\b|"
        r"explain your reasoning\b|does (?:it|that) follow\b)",
        lexicon=lexicons.PUZZLE,
    ),
    _signal(
        "reasoning",
        "relational clues",
        1.0,
        cap=3,
        pattern=r"比(?![较較如])(?:.{1,6})(?:高|矮|大|小|老|年轻|快|慢|重|轻)",
        lexicon="older+than younger+than taller+than shorter+than heavier+than lighter+than faster+than slower+than "
        "left+of right+of next+to sits+between sits+opposite sit+between father+' mother+' brother+' sister+' son+' "
        "daughter+' uncle+' aunt+' cousin+' only+once who+owns who+sits who+lives who+drinks who+lies "
        "mayor+que menor+que alto+que alta+que derecha+de izquierda+de älter+als jünger+als grösser+als kleiner+als "
        "links+von rechts+von grand+que petit+que âgé+que gauche+de droite+de vanhempi+kuin nuorempi+kuin "
        "pidempi+kuin lyhyempi+kuin vasemmalla+puolella oikealla+puolella 左+边 右+边 旁+边",
    ),
    # Statements before the question: a puzzle sets up facts, then asks. The run is possessive: the
    # characters it takes are never a full stop (a decimal point is no full stop), so giving them back
    # could not end a statement. Full-width ！ and ？ need no place here: NFKC has made them ! and ?.
    _signal("reasoning", "stated facts", 0.3, cap=3, before_question=True,
            pattern=r"(?:^|(?<=[.!?] )|(?<=。))(?:[^.!?。\n]|\.(?=\d)){6,}+[.。]"),
    # "Could a goldfish live in the Dead Sea?": yes-no questions about a possibility, answered by a chain of facts.
    _signal(
        "reasoning",
        "possibility question",
        0.5,
        # A flat alternation whose every alternative starts with a literal (see "spreadsheet"); the
        # look-behinds after each first word keep the question at the start of a clause.
        pattern="|".join(
            [f"{word}(?<![\\w,] {word})(?<!\\w{word}) (?:a|an|any|someone|somebody|anyone|people) \\w"
             for word in ("could", "would", "can", "did", "was", "were")]
            + [f"{phrase}(?<![\\w,] {phrase})(?<!\\w{phrase})\\b" for phrase in (
                "is it possible that", "is it possible for", "podría un", "podría una", "podría alguien", "pudo un",
                "pudo una", "pudo alguien", "puede un", "puede una", "puede alguien", "könnte ein", "könnte eine",
                "könnte jemand", "hätte ein", "hätte eine", "hätte jemand", "kann ein", "kann eine", "kann jemand",
                "voisiko", "olisiko", "pystyisikö")]
            + ["有可能", "可能.{1,20}吗", *lexicons.POSSIBILITY]),
    ),
    # Lettered options on their own lines: a multiple-choice test (general unless its words say otherwise).
    _signal("general", "multiple-choice options", 0.5, pattern=r"^[ \t]*\(?a[.)](?=[ \t].*\n(?:.*\n)*?[ \t]*\(?b[.)][ \t])"),
    _signal(
        "general",
        "writing task",
        1.5,
        cap=2,
        pattern=r"诗|故事|文章|邮件|总结|翻译|歌词|建议|推荐|食谱",
        lexicon="poem poems poema poemas gedicht runo* poème story historia cuento geschichte tarina* essay "
        "ensayo aufsatz essee* email e-mail correo sähköposti* letter+to cover+letter resignation+letter "
        "recommendation+letter complaint+letter formal+letter carta kirje* summar* resum* "
        "zusammenfass* tiivist* translate traduce übersetze käännä slogan lyrics song canción lied laulu* "
        "blog advice consejo* neuvo* recommend* recomienda* empfiehl* suosittel*",
    ),
)
_STEM_LENGTHS = sorted({len(stem) for signal in SIGNALS for stem in signal.stems})
_CACHE_LIMIT = 100_000
# Token → the signals whose lexicon holds it, for every token seen (a new dict when full).
_token_hits: dict[str, tuple[int, ...]] = {}
# Phrase → the signals whose lexicon lists it: one pass over a text's runs of each length serves them all.
_PHRASE_HITS: dict[tuple[str, ...], tuple[int, ...]] = {}
for _index, _signal_with_phrases in enumerate(SIGNALS):
    for _phrase in _signal_with_phrases.phrases:
        _PHRASE_HITS[_phrase] = (*_PHRASE_HITS.get(_phrase, ()), _index)
_PHRASE_LENGTHS = sorted({len(phrase) for phrase in _PHRASE_HITS})


def detect(text: str, toks: Sequence[str], without: Collection[str] = ()) -> Iterator[tuple[Signal, int, str]]:
    """Every signal in a normalised text and its tokens: (signal, hits up to its cap, a short sample).

    Signals named in `without` are not looked for (a model that does not read them skips their patterns).
    """
    global _token_hits
    if len(_token_hits) >= _CACHE_LIMIT:  # a new dict, never a cleared one: no entry goes missing mid-pass
        _token_hits = {}
    cache = _token_hits
    for tok in filterfalse(cache.__contains__, toks):
        cache[tok] = _lexicon_hits(tok)
    # The loops below run in C over the tokens and phrases that hit nothing, which is most of them.
    lexical: dict[int, list[str]] = {}
    for tok in filter(cache.get, toks):  # an empty tuple of hits is false
        for index in cache[tok]:
            lexical.setdefault(index, []).append(tok)
    phrased: dict[int, list[str]] = {}
    for length in _PHRASE_LENGTHS:
        for phrase in filter(_PHRASE_HITS.__contains__, zip(*(toks[i:] for i in range(length)))):
            for index in _PHRASE_HITS[phrase]:
                phrased.setdefault(index, []).append(" ".join(phrase))
    for index, signal in enumerate(SIGNALS):
        if signal.name in without:
            continue
        found = lexical.get(index, [])[: signal.cap]
        if index in phrased and len(found) < signal.cap:
            found += phrased[index][: signal.cap - len(found)]
        if signal.pattern is not None and len(found) < signal.cap:
            scope = text[: max(text.rfind("?"), 0)] if signal.before_question else text
            found += [m.group(0).strip() for _, m in zip(range(signal.cap - len(found)), signal.pattern.finditer(scope))]
        if found:
            yield signal, len(found), ", ".join(dict.fromkeys(s[:24] for s in found))


def _lexicon_hits(tok: str) -> tuple[int, ...]:
    """Indexes of the signals whose lexicon holds the token (exactly or by stem)."""
    prefixes = {tok[:n] for n in _STEM_LENGTHS if n <= len(tok)}
    return tuple(i for i, s in enumerate(SIGNALS) if tok in s.words or not prefixes.isdisjoint(s.stems))
