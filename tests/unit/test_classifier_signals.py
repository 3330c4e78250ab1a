"""Each deterministic signal, in English and in the other languages its lexicon covers."""

import pytest

from deployments.types import Message, TextPart
from router.classifier import classify_rules
from router.classifier.features import FeatureSpec, features, tokens
from router.classifier.normalise import normalise
from router.classifier.conversation import Turn, bounded, user_turns
from router.classifier.signals import detect


def fired(text: str) -> set[str]:
    text = normalise(text)
    return {signal.name for signal, _, _ in detect(text, tokens(text))}


@pytest.mark.parametrize(
    "text,signal",
    [
        ("```python\nx = 1\n```", "code fence"),
        ("def parse(line):\n    return line", "code syntax"),
        ("items.append(x) if a == b", "code syntax"),
        ("Why does my Python script crash?", "programming terms"),
        ("¿Cómo depuro este programa?", "programming terms"),
        ("这段代码有问题", "programming terms"),
        ("Write a Go function that adds two numbers", "write-a-function request"),
        ("Schreibe eine Funktion, die zwei Zahlen addiert", "write-a-function request"),
        (r"Compute \frac{1}{2} + \sqrt{3}", "LaTeX"),
        ("Find $x^2 + y^2$ when x = 3", "LaTeX"),
        ("What is 17 * 23?", "equation"),
        ("Solve 3x + 5 = 20", "equation"),
        ("Ratkaise yhtälö", "math terms"),
        ("求解这个方程", "math terms"),
        ("Wie viele Äpfel bleiben übrig?", "math terms"),
        ("He bought 3 books", "numbers"),
        ("It costs $12 and takes 3 hours", "quantities"),
        ("Here is a riddle for you", "logic-puzzle cues"),
        ("Uno de ellos siempre miente", "logic-puzzle cues"),
        ("谁说谎了？", "logic-puzzle cues"),
        ("Riddle: what am I?", "logic-puzzle cues"),
        ("Is this a valid syllogism?", "logic-puzzle cues"),
        ("Tom is older than Jane but younger than Max", "relational clues"),
        ("My mother's brother's son", "relational clues"),
        ("Anna sitzt links von Ben", "relational clues"),
        ("小明比小红高", "relational clues"),
        ("Which gas is inert?\nA. Oxygen\nB. Argon\nC. Chlorine", "multiple-choice options"),
        ("Options:\n(A) red\n(B) blue", "multiple-choice options"),
        ("Ana sits left of Ben. Ben is not last. Who sits in the middle?", "stated facts"),
        ("小明比小红高。小红比小刚高。谁最矮？", "stated facts"),
        ("Could a goldfish survive in the Dead Sea?", "possibility question"),
        ("¿Pudo un romano beber café?", "possibility question"),
        ("孔子有可能用纸写过字吗？", "possibility question"),
        ("Write a poem about rain", "writing task"),
        ("Kirjoita runo sateesta", "writing task"),
        # Code without code syntax: developer tools and spreadsheets.
        ("cron for every weekday at 6:30?", "developer tools"),
        ("git says fatal: refusing to merge unrelated histories", "developer tools"),
        ("necesito una expresión regular para validar un DNI", "developer tools"),
        ("Get-ChildItem in PowerShell only lists the top folder", "developer tools"),
        ("ModuleNotFoundError: No module named 'requests'", "developer tools"),
        ("=SVERWEIS(A2;Tabelle2!A:B;2;FALSCH) gibt #NV", "spreadsheet"),
        ("Excel'de DÜŞEYARA ile fiyatı nasıl çekerim?", "spreadsheet"),
        ("CERCA.VERT mi restituisce sempre errore", "spreadsheet"),
        ("somar B2:B20 só quando C for maior que 10", "spreadsheet"),
        ("как через ВПР подтянуть цену с другого листа", "spreadsheet"),
        ("İNTEGRAL nasıl alınır, adım adım anlat", "math terms"),  # Turkish capital İ
        ("IST ANNA GRÖSSER ALS BEN?", "relational clues"),  # ß in capitals
        ("آموزش برنامه\u200cنویسی برای مبتدی\u200cها", "programming terms"),  # a pair joined by a ZWNJ
        ("Policz całkę oznaczoną, bo całkowanie przez części mi nie wychodzi", "math terms"),
        ("Λύσε τις εξισώσεις, δεν καταλαβαίνω τη λύση της εξίσωσης", "math terms"),
        ("100以内的素数有几个", "math terms"),
        # typed without accents
        ("oblicz prawdopodobienstwo ze wypadna dwie szostki", "math terms"),
        ("giai phuong trinh nay giup minh voi", "math terms"),
        ("bu olasilik sorusunu nasil cozerim", "math terms"),
        ("λυσε την εξισωση με βηματα", "math terms"),
        ("como hago una expresion regular para emails", "developer tools"),
        ("SELECT name, age FROM users WHERE age > 30", "code syntax"),
        ("SELECT COUNT(*) FROM orders", "code syntax"),
        ("std::vector<int> keeps reallocating", "code syntax"),
        ("x = 3;", "code syntax"),
        ("Come faccio un foglio di calcolo per le spese?", "spreadsheet"),  # three words in a row
        ("What does a p-value tell me?", "math concepts"),  # a pair written with a hyphen
        ("Définir un sous-ensemble fermé", "math concepts"),
        ("Write an e-mail to my landlord", "writing task"),
        ("Write a cover letter for a junior role", "writing task"),
        ("my father’s brother’s son is my what?", "relational clues"),  # a phone's curly apostrophe
        ("Two boxes weigh 2.5 kg together. One is 0.5 kg heavier. How much does each weigh?", "stated facts"),
        ("Ahmed sits next to Ali. Sara sits on the left. Who sits in the middle؟", "stated facts"),  # Arabic ?
        ("What has keys but opens no locks? What am I?", "logic-puzzle cues"),
        ("آموزش برنامه نويسي پايتون", "programming terms"),  # Persian typed with Arabic yeh and kaf
        ("Zbiór wszystkich obliczeń", "math terms"),
        ("Bu integrali hesaplayabilir misin?", "math terms"),
        ("计算这个三角形的面积", "math terms"),
        ("for k, v in scores.items():", "code syntax"),
        ("for f in *.log; do gzip $f; done", "code syntax"),
        ("小明比小红高，谁最矮", "relational clues"),
        ("谜语：千条线，万条线，掉到水里看不见，打一自然现象", "logic-puzzle cues"),
        ("长除法怎么算", "math concepts"),
    ],
)
def test_signal_fires(text, signal):
    assert signal in fired(text)


@pytest.mark.parametrize(
    "text,signal",
    [
        ("Bring $5 and I'll pay you $10 later", "LaTeX"),  # prices are not TeX
        ("```\nSolve for x\n```", "code fence"),  # a bare fence is layout, not code
        ("Write a script for a video about jazz", "write-a-function request"),
        ("The class met at noon", "code syntax"),
        ("What is the capital of Peru?", "numbers"),
        ("Plan A. First we eat, then we talk.", "multiple-choice options"),  # one lettered line is not a test
        ("The sun is left on all day", "relational clues"),
        ("Write a poem. Make it short and sad.", "stated facts"),  # statements, but no question after them
        ("What is a monad? Explain it simply.", "stated facts"),  # the statement follows the question
        ("Could you explain this error?", "possibility question"),
        ("What would a good name for my cat be?", "possibility question"),
        ("y = sin(x) + cos(x), find the maximum", "spreadsheet"),  # a function of x, not a formula
        ("We meet at 10:30 in room B2", "spreadsheet"),
        ("I merged the two teams into one", "developer tools"),
        ("I could have done better on the test, any tips?", "possibility question"),
        ("The main determinant of the price was the weather", "math concepts"),  # one word, no maths
        ("def f(x): return x  # a function, not a maths concept", "math concepts"),
        ("This code has a limit on the series of requests it sends", "math concepts"),
        ("tôi làm việc liên tục cả tuần, đại số đông đồng ý tập hợp lại", "math concepts"),  # everyday Vietnamese
        ("Całkowicie się zgadzam, w średniowieczu było inaczej", "math terms"),  # completely; the Middle Ages
        ("请导出品质数据，再看看照片的像素数和元素数量", "math terms"),  # quality data, pixel count, element count
        ("配列の要素数を取得したい", "math terms"),  # the number of elements of an array
        ("I always lose my keys", "math terms"),  # "löse" unaccented is too short to read
        ("Vi promenerade på gator i Stockholm", "logic-puzzle cues"),  # streets, not gåtor
        ("Is this a logical place for a shelf?", "logic-puzzle cues"),
        # decimal points end no statement; π inside a Greek word is a letter; a Greek question ends in ;
        ("What does a p-value of 0.03 mean?", "stated facts"),
        ("Πού είναι η Αθήνα;", "equation"),
        ("Μπορείς να μου προτείνεις ένα καλό βιβλίο;", "code syntax"),
        ("Select the correct answer from the options below", "code syntax"),
        ("Var ligger Stockholm?", "code syntax"),  # Swedish "where"
        ("bird : nest :: bee : ?", "code syntax"),  # an analogy
        ("Answer with the letter only.", "writing task"),
        ("Solve 3x + 5 = 20 step by step", "logic-puzzle cues"),
        ("What am I doing wrong here with my budget", "logic-puzzle cues"),
        ("Kto jest autorem Pana Tadeusza?", "developer tools"),  # Polish "is"
        ("Tengo una consulta sobre mi factura", "programming terms"),  # a question about a bill
        ("A lua está linda hoje", "programming terms"),  # the moon
        ("Mi primo Juan es más alto que yo", "math terms"),  # a cousin
        ("We gaan naar de winkel", "math terms"),  # a shop
        ("W obliczu kryzysu rząd milczy", "math terms"),  # in the face of
        ("Hesaplarımı kontrol ettim", "math terms"),  # my accounts
        ("Per quanto riguarda il viaggio, partiamo domani", "math terms"),
        ("我的计算机坏了，怎么办", "math terms"),  # a computer
        ("いくつか質問があります", "math terms"),  # some
        ("얼마나 걸려요?", "math terms"),  # how long
        ("Potrebbe aiutarmi a prenotare un tavolo?", "possibility question"),  # a polite request
        ("Bisakah kamu membantu saya?", "possibility question"),
        ("For students in grade 5: read a book a week", "code syntax"),
        ("他比较大方，比如请客", "relational clues"),  # relatively; for example
        ("写一篇关于人类未来的短文", "write-a-function request"),  # humanity, not a class
        ("我用排除法做题，画一个椭圆形", "math concepts"),  # elimination; an oval
        ("打一个电话给他，我猜他会来", "logic-puzzle cues"),  # a phone call; I guess
        ("Mohl byste mi doporučit knihu?", "possibility question"),  # a polite request
        ("깃발을 들고 왔어요", "developer tools"),  # a flag
    ],
)
def test_signal_stays_quiet(text, signal):
    assert signal not in fired(text)


def test_hits_are_capped():
    text = normalise("1 2 3 4 5 6 7 8 9 10 11 12")
    [(signal, hits, _)] = [found for found in detect(text, tokens(text)) if found[0].name == "numbers"]
    assert hits == signal.cap


def test_tokens_collapse_digits_and_split_cjk():
    assert tokens(normalise("Ｘ = 12345 写代码")) == ["x", "=", "000", "写", "代", "码"]


def test_option_labels_and_fences_are_not_lexical_features():
    """Lettered options are one signal (a multiple-choice test), never words: benchmarks differ in style."""
    plain = features([Turn(1.0, "Which is a prime?\n2\n4")])
    laid_out = features([Turn(1.0, "Which is a prime?\nA. 2\nB. 4")])
    assert laid_out.keys() - plain.keys() == {"s multiple-choice options"}
    assert "w `" not in features([Turn(1.0, "```\nhello\n```")])


def test_bounded_keeps_head_and_tail():
    text = "H" * 5000 + "T" * 5000
    cut = bounded(text, 1000)
    assert len(cut) == 1001 and cut.startswith("H" * 750) and cut.endswith("T" * 250)
    assert bounded("short", 1000) == "short"


def test_user_turns_latest_first_and_only_users():
    messages = [Message(role, (TextPart(text),)) for role, text in
                [("system", "sys"), ("user", "one"), ("assistant", "a"), ("user", "two"), ("user", "three")]]
    assert [(t.weight, t.text) for t in user_turns(messages, 1)] == [(1.0, "three"), (0.5, "two")]
    assert [t.text for t in user_turns(messages, 5)] == ["three", "two", "one"]
    assert [t.text for t in user_turns(messages, 0)] == ["three"]


@pytest.mark.parametrize(
    "text,expected",
    [("```python\nprint(1)\n```", "code"), ("Solve 2x + 3 = 11", "math"),
     ("Here is a riddle: who tells the truth?", "reasoning"), ("Tell me a joke", "general")],
)
def test_rules_baseline(text, expected):
    result = classify_rules([Message("user", (TextPart(text),))])
    assert result.category == expected and result.reasons


# The cue lexicons, at least one request per language family for each category's signal.
@pytest.mark.parametrize(
    "text,signal",
    [
        # CJK
        ("帮我写个正则表达式匹配手机号", "developer tools"),
        ("このコードのエラーを直して", "programming terms"),
        ("파이썬으로 리스트 정렬하는 함수 만들어줘", "programming terms"),
        ("10人の中から3人選ぶ方法は何通り？", "math terms"),
        ("이 방정식 좀 풀어줘", "math terms"),
        ("なぞなぞを出して", "logic-puzzle cues"),
        ("거짓말을 하는 사람은 누구일까?", "logic-puzzle cues"),
        # Arabic, Persian, Hebrew
        ("اكتب سكربت بايثون لقراءة ملف", "programming terms"),
        ("احسب مساحة المثلث", "math terms"),
        ("لغز: من الذي يكذب؟", "logic-puzzle cues"),
        ("یک تابع پایتون بنویس", "programming terms"),
        ("درصد تخفیف را حساب کن: میانگین قیمت‌ها", "math terms"),
        ("כתוב פונקציה בפייתון", "programming terms"),
        ("חידה: מי משקר?", "logic-puzzle cues"),
        # Cyrillic
        ("напиши скрипт на питоне", "programming terms"),
        ("реши уравнение и найди вероятность", "math terms"),
        ("загадка: кто из них лжец?", "logic-puzzle cues"),
        ("скільки буде 15 відсотків від 80", "math terms"),
        # Indic
        ("पायथन में कोड लिखो", "programming terms"),
        ("इस त्रिभुज का क्षेत्रफल कितना है?", "math terms"),
        ("एक पहेली बताओ", "logic-puzzle cues"),
        # Latin-script European
        ("preciso de um código em python", "programming terms"),
        ("calcola la probabilità di due assi", "math terms"),
        ("un indovinello difficile per favore", "logic-puzzle cues"),
        ("napisz funkcję, która sortuje listę", "programming terms"),
        ("oblicz średnią z tych liczb", "math terms"),
        ("en gåta om en lögnare", "logic-puzzle cues"),
        # Turkish
        ("bu kodu düzeltir misin", "programming terms"),
        ("bu denklemi çöz ve yüzde kaç olduğunu hesapla", "math terms"),
        ("bir bilmece sor, kim yalan söylüyor?", "logic-puzzle cues"),
        # Southeast Asian
        ("viết chương trình đọc file bằng python", "programming terms"),
        ("giải phương trình này giúp mình", "math terms"),
        ("một câu đố: ai đang nói dối?", "logic-puzzle cues"),
        ("tolong buat fungsi untuk menghitung", "programming terms"),
        ("berapa persen diskonnya?", "math terms"),
        ("ช่วยเขียนโค้ดไพธอนให้หน่อย", "programming terms"),
        ("ช่วยแก้สมการนี้", "math terms"),
        ("ทายปริศนานี้หน่อย", "logic-puzzle cues"),
        # Maths concepts asked in words, one request per family of scripts and languages.
        ("what does it mean for a map to be injective but not surjective?", "math concepts"),
        ("¿por qué todo espacio vectorial tiene una base?", "math concepts"),
        ("warum ist die Wurzel aus zwei eine irrationale Zahl?", "math concepts"),
        ("почему ряд сходится, если это степенной ряд? объясните общий делитель", "math concepts"),
        ("为什么行秩等于列秩？线性代数里总是这么说", "math concepts"),
        ("ベクトル空間の基底がよくわからない", "math concepts"),
        ("고유벡터가 뭔지 직관적으로 설명해줘", "math concepts"),
        ("ما الفرق بين الانحراف المعياري والتباين؟", "math concepts"),
        ("मानक विचलन का मतलब क्या है?", "math concepts"),
        ("standart sapma ne anlama geliyor?", "math concepts"),
        ("hàm liên tục trên đoạn đóng có bị chặn không? định thức là gì", "math concepts"),
        # Possibility in the past, answered by a chain of facts.
        ("could charles darwin have seen a photograph of himself?", "possibility question"),
        ("¿Cervantes pudo haber leído El Quijote en inglés?", "possibility question"),
        ("Mohl můj praděda slyšet Masaryka v rádiu?", "possibility question"),
        ("Bir deve Antarktika'da yaşayabilir miydi?", "possibility question"),
        ("могла ли Екатерина Вторая пить чай с лимоном?", "possibility question"),
        ("織田信長はカステラを食べることができた？", "possibility question"),
        ("האם רופא בשנת 1950 יכול היה לבצע השתלה?", "possibility question"),
        ("क्या अकबर चाय पी सकता था?", "possibility question"),
    ],
)
def test_lexicons_cover_the_language_families(text, signal):
    assert signal in fired(text)


def test_patterns_are_written_as_the_text_is_normalised():
    """A pattern that normalisation would change could never match the normalised text (the word
    lists are normalised where they are read)."""
    from router.classifier import lexicons

    patterns = [(name, getattr(lexicons, name)) for name in dir(lexicons) if name.endswith(("_SCRIPTS", "_DOTTED"))]
    patterns += [("POSSIBILITY", alternative) for alternative in lexicons.POSSIBILITY]
    assert len(patterns) > 20
    for name, pattern in patterns:
        assert normalise(pattern) == pattern, (name, pattern)


def test_words_keep_their_combining_marks():
    """Devanagari vowel signs and Thai vowels are marks, not word breaks."""
    assert tokens(normalise("हिन्दी में कोड")) == ["हिन्दी", "में", "कोड"]
    assert tokens(normalise("สวัสดีครับ")) == ["สวัสดีครับ"]


def test_turkish_capitals_german_sharp_s_and_persian_joiners_read_as_their_plain_words():
    """Lower-cased İ is i + a combining dot, which a word would keep; capitals write ß as SS; a ZWNJ
    joins two words unseen."""
    assert tokens(normalise("İki İSTANBUL")) == tokens(normalise("iki istanbul")) == ["iki", "istanbul"]
    assert tokens(normalise("Größe GRÖSSE")) == ["grösse", "grösse"]
    assert tokens(normalise("برنامه\u200cنویسی")) == ["برنامه", "نویسی"]


def test_unspaced_scripts_count_by_character_trigrams():
    feats = features([Turn(1.0, "ช่วยเขียนโค้ด")])
    assert "w ช่วยเขียนโค้ด" in feats and {"c <ช่", "c ้ด>"} <= feats.keys()
    assert not any(name.startswith("c ") for name in features([Turn(1.0, "please write some code")]))


def test_digits_are_no_lexical_features():
    """Houses numbered 1 to 4 read like houses numbered: the numbers signal counts digits, words do not."""
    feats = features([Turn(1.0, "houses numbered 1 to 4")])
    assert not any(name.startswith(("w 0", "b 0", "b numbered 0")) for name in feats)
    assert "s numbers" in feats
    assert "w 0" in features([Turn(1.0, "houses numbered 1 to 4")], FeatureSpec(digits="length"))


def test_a_signal_the_spec_leaves_out_is_no_feature():
    text = "Which gas is inert?\nA. Oxygen\nB. Argon"
    assert "s multiple-choice options" in features([Turn(1.0, text)], FeatureSpec())
    assert "s multiple-choice options" not in features([Turn(1.0, text)], FeatureSpec(without_signals=("multiple-choice options",)))
