"""Deterministic signals: notation and vocabulary that say code, math, a puzzle or a writing task.

A signal fires on a pattern (regex over the normalised text: code syntax, LaTeX, equations,
phrases) or on a lexicon (single words, stems written `stem*`, looked up per token with a cache,
so a long text costs one dict lookup per word; word pairs written `first+second`, looked up per
pair of adjacent tokens). The rules baseline scores the signals directly; the learned model
takes them as features next to the words, so a weight learned on English data carries over to
the other languages the lexicons list (es, de, fi, fr, zh).
"""

import re
from dataclasses import dataclass, field
from typing import Iterator, Sequence

from serve_app.config import Category


@dataclass(frozen=True, slots=True)
class Signal:
    category: Category
    name: str
    weight: float  # the rules baseline's score per hit
    cap: int = 1  # hits counted at most this many times
    pattern: re.Pattern[str] | None = None
    words: frozenset[str] = field(default_factory=frozenset)
    stems: tuple[str, ...] = ()
    pairs: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    before_question: bool = False  # the pattern is searched only before the text's last question mark


def _signal(
    category: Category, name: str, weight: float, cap: int = 1, pattern: str = "", lexicon: str = "",
    before_question: bool = False,
) -> Signal:
    entries = lexicon.split()
    return Signal(
        category,
        name,
        weight,
        cap,
        re.compile(pattern, re.MULTILINE) if pattern else None,
        frozenset(e for e in entries if not e.endswith("*") and "+" not in e),
        tuple(e[:-1] for e in entries if e.endswith("*")),
        frozenset(tuple(e.split("+", 1)) for e in entries if "+" in e),
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
        pattern=r"(?:^|(?=[);=\-:.!&|c]))(?:^[ \t]*(?:def |class \w|import \w|from [\w.]+ import|#include|public static|fn \w|func \w|"
        r"select .+ from|create table|const \w|let \w+ =|var \w|function \w|return\b|for \w+ in |"
        r"if __name__|print\(|console\.log|</?[a-z]+[ >])|\)\s*\{|;$|=>|->|::|\.\w+\(|==|!=|&&|\|\||c\+\+|c#)",
    ),
    _signal(
        "code",
        "programming terms",
        1.0,
        cap=4,
        pattern=r"代码|程序|编程|算法|脚本|调试|数组|字符串|递归",
        lexicon="python javascript typescript java rust golang kotlin swift sql bash shell regex api json "
        "html css docker kubernetes git pandas numpy react django flask matlab pytorch function functions "
        "función funciones funcion funktion funktionen funktio* fonction code código codigo koodi* quellcode "
        "program programs programa* programm* ohjelm* algorithm* algoritm* script* compil* kompil* debug* "
        "depura* bug bugs exception arrays array recursi* rekursi* endpoint refactor* variable variables "
        "string strings dataframe query consulta abfrage kysely* implement* implementa* método methode "
        "class klasse clase luokka* compiler",
    ),
    _signal(
        "code",
        "write-a-function request",
        2.5,
        pattern=r"(?=[wesk写编])(?:write an? (?:\w+ )?(?:function|program|class|query|method)\b|"
        r"escribe una? (?:\w+ )?(?:funci[oó]n|programa|script|clase|consulta)\b|"
        r"schreibe (?:eine?n? )?(?:\w+ )?(?:funktion|programm|skript|klasse|abfrage)\b|"
        r"kirjoita (?:\w+ )?(?:funktio|ohjelma|skripti|luokka|kysely)|"
        r"(?:写|编写)一?个?.{0,12}(?:函数|程序|脚本|类))",
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
        pattern=r"(?=[\d^=<>≤≥√∫∑π²³])(?:\d\s*[-+*/^×÷·]\s*\(?\d|\^\s*\d|\d[a-z]\s*[-+]\s*\d|[=<>≤≥]\s*-?\d|√|∫|∑|π|²|³)",
    ),
    _signal(
        "math",
        "math terms",
        1.0,
        cap=4,
        pattern=r"(?:求解|方程|计算|多少|积分|导数|概率|证明|三角形|面积|周长|质数|素数|平均|整数|分数|百分之|"
        r"how (?:many|much)\b|wie viele?\b|kuinka (?:monta|paljon)\b|sum of\b|product of\b|expected value\b)",
        lexicon="solve resuelve resolver löse ratkaise résous resous equation equations ecuación* ecuacion* "
        "gleichung* yhtälö* yhtalo* équation* integral* integraali* derivative derivada ableitung derivaat* "
        "differentiate probability probabilidad wahrscheinlichkeit todennäköisyy* prove demuestra beweise todista "
        "theorem teorema calculate compute calcula* berechne* laske* calcule* cuántos cuántas cuánto cuanto "
        "cuantos remainder divisible prime primes primo primos primzahl* alkulu* polynomial polinomio* polynom* "
        "fraction fractions percent percentage porcentaje prozent prosent* area área fläche pinta-ala perimeter "
        "perímetro triangle triángulo dreieck* kolmio* circle círculo kreis* ympyr* radius angle ángulo winkel "
        "kulma* matrix matriz vector vectors integer integers entero enteros kokonaislu* average promedio "
        "durchschnitt* keskiarvo* ratio factorial logarithm simplify simplifica vereinfache sievennä evaluate "
        "median variance varianza varianz varianssi",
    ),
    _signal("math", "numbers", 0.4, cap=5, lexicon="0 00 000"),  # digit runs, as features.tokens writes them
    _signal(
        "math",
        "quantities",
        0.8,
        cap=2,
        pattern=r"(?=[$£€¥\d])(?:[$£€¥]\s?\d|\d\s?[$£€¥元]|\d\s?(?:%|percent\b|dollars?\b|cents?\b|euros?\b|hours?\b|horas?\b|"
        r"stunden?\b|tuntia\b|minutes?\b|minutos?\b|minuten?\b|miles\b|km\b|kg\b|met(?:er|re)s?\b|metros?\b))",
    ),
    _signal(
        "reasoning",
        "logic-puzzle cues",
        1.6,
        cap=3,
        pattern=r"(?:谜语|谜题|猜|打一|说真话|说谎|撒谎|推理|推断|逻辑|顺序|一定是|谁是|"
        r"tells? the truth\b|dice la verdad\b|sagt die wahrheit\b|puhuu? totta\b|dit la vérité\b|"
        r"must be true\b|which of the following is true\b|in what order\b|arranged? in\b|"
        r"fixed order\b|valid argument\b|step by step\b|paso a paso\b|schritt für schritt\b|"
        r"what (?:day|date) (?:is|was|will)\b|turn (?:left|right)\b|take \d+ steps?\b|"
        r"who (?:is|was) (?:the )?\w+est\b|quién es (?:el|la) más\b|wer ist (?:der|die) \w+ste\b|"
        r"what am i\b|qué soy\b|was bin ich\b|mikä olen\b|que suis-je\b|think it through\b|reason it out\b|"
        r"explain your reasoning\b|does (?:it|that) follow\b)",
        lexicon="riddle riddles puzzle puzzles acertijo* adivinanza* rätsel rätsels arvoitu* énigme enigme "
        "lies lying liar liars knave knaves miente mienten mentiroso* lügt lügen lügner* valehtel* deduce "
        "deduction deduc* folgere schließe päättele päättely* logically lógica* logik* logiikka* premise "
        "premises premisa* prämisse* premissi* constraint constraints restricción restricciones bedingung* "
        "ehdot ehto orden reihenfolge järjesty* fallacy fallacies falacia falacias fehlschluss sophisme "
        "syllogism syllogisms silogismo therefore valid invalid conclude conclusion",
    ),
    _signal(
        "reasoning",
        "relational clues",
        1.0,
        cap=3,
        pattern=r"比.{1,6}(?:高|矮|大|小|老|年轻|快|慢|重|轻)",
        lexicon="older+than younger+than taller+than shorter+than heavier+than lighter+than faster+than slower+than "
        "left+of right+of next+to sits+between sits+opposite sit+between father+' mother+' brother+' sister+' son+' "
        "daughter+' uncle+' aunt+' cousin+' only+once who+owns who+sits who+lives who+drinks who+lies "
        "mayor+que menor+que alto+que alta+que derecha+de izquierda+de älter+als jünger+als größer+als kleiner+als "
        "links+von rechts+von grand+que petit+que âgé+que gauche+de droite+de vanhempi+kuin nuorempi+kuin "
        "pidempi+kuin lyhyempi+kuin vasemmalla+puolella oikealla+puolella 左+边 右+边 旁+边",
    ),
    # Statements before the question: a puzzle sets up facts, then asks.
    _signal("reasoning", "stated facts", 0.3, cap=3, before_question=True,
            pattern=r"(?:^|(?<=[.!?] )|(?<=[。！？]))[^.!?。！？\n]{6,}[.。]"),
    # "Could a goldfish live in the Dead Sea?": yes-no questions about a possibility, answered by a chain of facts.
    _signal(
        "reasoning",
        "possibility question",
        0.5,
        pattern=r"(?=[cwdipkvo])(?<![\w,] )(?<!\w)(?:(?:could|would|can|did|was|were) (?:a|an|any|someone|somebody|anyone|people) \w|"
        r"is it possible (?:that|for)\b|(?:podría|pudo|puede) (?:un|una|alguien)\b|(?:könnte|hätte|kann) (?:ein|eine|jemand)\b|"
        r"(?:voisiko|olisiko|pystyisikö)\b)|有可能|可能.{1,20}吗",
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
        "ensayo aufsatz essee* email e-mail correo sähköposti* letter carta kirje* summar* resum* "
        "zusammenfass* tiivist* translate traduce übersetze käännä slogan lyrics song canción lied laulu* "
        "blog advice consejo* neuvo* recommend* recomienda* empfiehl* suosittel*",
    ),
)
_STEM_LENGTHS = sorted({len(stem) for signal in SIGNALS for stem in signal.stems})
_CACHE_LIMIT = 100_000
_token_hits: dict[str, tuple[int, ...]] = {}


def detect(text: str, toks: Sequence[str]) -> Iterator[tuple[Signal, int, str]]:
    """Every signal in a normalised text and its tokens: (signal, hits up to its cap, a short sample)."""
    lexical: dict[int, list[str]] = {}
    for tok, hits in zip(toks, map(_token_hits.get, toks)):  # the cache lookup in C; most tokens hit nothing
        for index in _lexicon_hits(tok) if hits is None else hits:
            lexical.setdefault(index, []).append(tok)
    for index, signal in enumerate(SIGNALS):
        found = lexical.get(index, [])[: signal.cap]
        if signal.pairs and len(found) < signal.cap:
            found += [" ".join(pair) for pair in zip(toks, toks[1:]) if pair in signal.pairs][: signal.cap - len(found)]
        if signal.pattern is not None and len(found) < signal.cap:
            scope = text[: max(text.rfind("?"), text.rfind("？"), 0)] if signal.before_question else text
            found += [m.group(0).strip() for _, m in zip(range(signal.cap - len(found)), signal.pattern.finditer(scope))]
        if found:
            yield signal, len(found), ", ".join(dict.fromkeys(s[:24] for s in found))


def _lexicon_hits(tok: str) -> tuple[int, ...]:
    """Indexes of the signals whose lexicon holds the token (exactly or by stem); cached per token."""
    hits = _token_hits.get(tok)
    if hits is None:
        prefixes = {tok[:n] for n in _STEM_LENGTHS if n <= len(tok)}
        hits = tuple(i for i, s in enumerate(SIGNALS) if tok in s.words or not prefixes.isdisjoint(s.stems))
        if len(_token_hits) >= _CACHE_LIMIT:
            _token_hits.clear()
        _token_hits[tok] = hits
    return hits
