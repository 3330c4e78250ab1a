"""Cue words of the signals, per language: what says code, math or a puzzle beyond English.

Entries are lower-case and NFKC-normalias `features.tokens` writes them: a word, a stem
written `stem*`, or an adjacent word pair written `first+second` (Vietnamese writes a word as
several syllables). Scripts without spaces between words (Chinese, Japanese, Thai) and Korean,
whose syllables the tokenizer splits, are matched by the regular expressions of `*_SCRIPTS`.
Only words that say the category on their own are listed: "error", "table" or "class" do not
(they are as common in general requests); "function" and "formula" do, in every language where
they belong to code and math alike, so they are counted by both signals.
"""

# --- code ---------------------------------------------------------------------------------------
PROGRAMMING = (
    # en
    "python javascript typescript java rust golang kotlin swift sql bash shell zsh regex api json html css "
    "docker kubernetes git pandas numpy react django flask matlab pytorch function functions code program "
    "programs programming algorithm* script* compil* debug* bug bugs exception arrays array recursi* endpoint "
    "refactor* variable variables string strings dataframe query implement* compiler class method methods "
    "frontend backend npm pip yarn webpack vite nodejs vue angular svelte jquery csharp dotnet "
    "unity godot arduino raspberry vba macro macros sqlite postgres postgresql mysql mongodb redis graphql "
    "stacktrace traceback segfault nullpointerexception typeerror syntaxerror valueerror runtime localhost "
    "linux ubuntu nginx apache yaml yml toml xml dockerfile makefile cmake gradle maven jvm php laravel "
    "perl lua haskell scala elixir cpp fortran cobol powershell cmd cli "
    "pygame tkinter selenium scrapy beautifulsoup fastapi swiftui flutter android ios xcode "
    "vscode jupyter colab github gitlab bitbucket oauth jwt cors http https websocket "
    # es pt it fr de nl sv fi pl cs tr id (Latin script)
    "función funciones funcion funktion funktionen funktio* fonction fonctions funzione funzioni função funções "
    "funcao funcoes functie fungsi fonksiyon* funkcj* funkce "
    "código codigo koodi* quellcode codice kód kod kodu kodun kodla* kodlar* kode programa* programm* ohjelm* "
    "programmeer* programowa* programl* pemrograman "
    "algoritm* depura* recursi* rekursi* implementa* método methode metodo metoda metod "
    "clase klasse luokka* consulta abfrage kysely* zapytani* sorgu* kueri dotaz "
    "skript* skrypt* betik skrip variável variabel variabile değişken* zmienn* proměnn* "
    "planilha* hoja+de+cálculo tabellenkalkulation foglio+di+calcolo feuille+de+calcul kalkylark* arkusz* "
    "laskentataulu* elektronik+tablo spreadsheet* "
    # ru uk (Cyrillic)
    "код кода коде кодом программ* програм* программирован* скрипт* питон джаваскрипт "
    "алгоритм* массив* переменн* компил* отлад* регулярк* фреймворк* "
    # el
    "κώδικα κώδικας κώδικά πρόγραμμα προγραμματισμ* συνάρτηση "
    # ar fa he
    "كود الكود برمجة البرمجة برنامج دالة الدالة بايثون سكربت سكريبت جافاسكريبت خوارزمية "
    "کد برنامه+نویسی پایتون اسکریپت تابع "
    "קוד תכנות פונקציה פונקציית סקריפט פייתון "
    # hi
    "कोड प्रोग्राम प्रोग्रामिंग फ़ंक्शन फंक्शन स्क्रिप्ट पायथन "
    # vi (pairs of syllables)
    "lập+trình mã+nguồn đoạn+mã chương+trình câu+lệnh truy+vấn hàm biến+số"
)
PROGRAMMING_SCRIPTS = (
    r"代码|程序|编程|算法|脚本|调试|数组|字符串|递归|报错|正则|命令行|数据库|前端|后端|编译|变量|接口|函数|"
    r"コード|プログラム|関数|変数|配列|スクリプト|正規表現|コマンド|実装|デバッグ|コンパイル|メソッド|ライブラリ|"
    r"エラーメッセージ|マクロ|"
    r"코드|프로그램|프로그래밍|함수|변수|배열|파이썬|자바스크립트|리액트|디버깅|컴파일|스크립트|쿼리|명령어|"
    r"정규식|정규표현식|커밋|데이터베이스|메서드|라이브러리|알고리즘|"
    r"โค้ด|โปรแกรม|ฟังก์ชัน|สคริปต์|ไพธอน"
)
# Developer tools and the errors people paste from them: code even with no code syntax.
DEVELOPER_TOOLS = (
    "git commit commits rebase merge+conflict pull+request gitignore "
    "cron crontab cronjob regex regexp regular+expression regulärer+ausdruck expresión+regular "
    "expressão+regular expression+régulière espressione+regolare düzenli+ifade wyrażenie+regularne wyrażenia+regularne "
    "reguljärt+uttryck säännöllinen+lauseke reguliere+expressie регулярное+выражение регулярные+выражения "
    "kubectl helm terraform ansible systemd systemctl ssh scp rsync chmod chown sudo "
    "grep sed awk curl wget powershell cmdlet bash zsh homebrew brew pip3 conda venv virtualenv "
    "npm yarn pnpm webpack babel eslint prettier pytest junit jest mocha unittest "
    "localhost cors nginx htaccess ssl tls dns "
    "modulenotfounderror importerror keyerror indexerror attributeerror nameerror zerodivisionerror "
    "undefined nullreferenceexception stackoverflow segmentation+fault "
    "excel vba google+sheets libreoffice+calc"
)
DEVELOPER_SCRIPTS = r"正则表达式|正規表現|정규식|크론|깃허브|깃|エクセル|엑셀|스프레드시트|スプレッドシート|电子表格"
# Spreadsheets and their functions, in the languages Excel and Sheets are localised into.
SPREADSHEET = (
    "spreadsheet spreadsheets planilha planilhas tabellenkalkulation kalkylark kalkylarket arkusz+kalkulacyjny "
    "hoja+de+cálculo foglio+di+calcolo feuille+de+calcul elektronik+tablo laskentataulukko "
    "vlookup hlookup xlookup sumif sumifs countif countifs averageif iferror concatenate textjoin "
    "arrayformula importrange sumproduct datedif networkdays sverweis wverweis xverweis summewenn "
    "summewenns zählenwenn zählenwenns wennfehler verketten buscarv buscarh buscarx concatenar procv proch "
    "procx somase seerro recherchev rechercheh recherchex sierreur letarad letakolumn phaku vhaku "
    "düşeyara yatayara etopla eğersay eğerhata впр гпр суммесли счётесли счетесли еслиошибка сцепить"
)
# Localised names written with a dot, which the tokenizer splits: matched in the text instead.
SPREADSHEET_DOTTED = (
    "sumar.si contar.si si.error cont.se somme.si nb.si cerca.vert cerca.orizz somma.se conta.se se.errore "
    "vert.zoeken som.als aantal.als summa.om antal.om summa.jos laske.jos wyszukaj.pionowo suma.jeżeli "
    "licz.jeżeli jeżeli.błąd"
)

# --- math ---------------------------------------------------------------------------------------
MATH = (
    # en
    "solve equation equations integral* derivative differentiate probability prove theorem calculate "
    "compute remainder divisible prime primes polynomial fraction fractions percent percentage area "
    "perimeter triangle circle radius angle matrix vector vectors integer integers average ratio factorial "
    "logarithm simplify evaluate median variance hypotenuse circumference diameter quadratic exponent "
    ""
    # es pt it fr
    "resuelve resolver ecuación* ecuacion* derivada probabilidad demuestra teorema calcula* cuántos cuántas "
    "cuánto cuanto cuantos primo primos polinomio* porcentaje área perímetro triángulo círculo ángulo matriz "
    "entero enteros promedio simplifica varianza "
    "resolva equação equações probabilidade triângulo porcentagem quantos quantas quanto calcul* "
    "equazione equazioni probabilità triangolo percentuale quanti quante calcol* "
    "résous resous équation* probabilité triangle pourcentage combien calcule* dérivée "
    # de nl sv fi pl cs
    "löse gleichung* ableitung* wahrscheinlichkeit beweise berechne* primzahl* polynom* prozent fläche "
    "dreieck* kreis* winkel durchschnitt* vereinfache "
    "vergelijking* kans+op bereken* driehoek* oppervlakte gemiddelde afgeleide "
    "ekvation* sannolikhet* beräkna* räkna* triangel* medelvärde derivata procent "
    "ratkaise yhtälö* yhtalo* integraali* derivaat* todennäköisyy* todista laske* alkulu* kolmio* ympyr* kulma* "
    "kokonaislu* keskiarvo* sievennä prosent*  "
    "równani* prawdopodobieństw* oblicz* trójkąt* średni* pochodn* całk* procent* ile+wynosi "
    "rovnic* pravděpodobnost* vypočít* trojúhelník* průměr* "
    # tr id vi
    "denklem* olasılık* hesapla* üçgen* ortalama* türev* integral yüzde kaç+tane kaç+lira "
    "persamaan peluang hitung* segitiga turunan persen berapa "
    "phương+trình xác+suất tam+giác diện+tích trung+bình đạo+hàm tích+phân phần+trăm bao+nhiêu "
    # ru uk el
    "уравнени* вероятност* вычисл* посчита* треугольник* интеграл* производн* процент* сколько среднее "
    "рівнянн* ймовірн* обчисл* скільки трикутник* "
    "εξίσωση πιθανότητα υπολόγισε τρίγωνο ποσοστό πόσα πόσο "
    # ar fa he hi
    "معادلة احتمال احسب مثلث مساحة متوسط نسبة مئوية تكامل مشتقة كم "
    "معادله محاسبه مساحت میانگین درصد "
    "משוואה הסתברות חשב משולש ממוצע אחוז "
    "समीकरण प्रायिकता प्रतिशत त्रिभुज क्षेत्रफल औसत गणना कितना कितने कितनी हल"
)
MATH_SCRIPTS = (
    r"求解|方程|计算|多少|积分|导数|概率|证明|三角形|面积|周长|质数|素数|平均|整数|分数|百分之|"
    r"方程式|確率|面積|微分|積分|計算|パーセント|何通り|いくつ|何個|"
    r"방정식|확률|삼각형|넓이|평균|미분|적분|퍼센트|계산|몇 개|얼마|"
    r"สมการ|ความน่าจะเป็น|สามเหลี่ยม|ค่าเฉลี่ย|เปอร์เซ็นต์|คํานวณ"
)

# --- reasoning ----------------------------------------------------------------------------------
PUZZLE = (
    # en
    "riddle riddles puzzle puzzles brainteaser lies lying liar liars knave knaves deduce "
    "deduction logically premise premises constraint constraints fallacy fallacies syllogism syllogisms "
    "therefore valid invalid conclude conclusion "
    # es pt it fr
    "acertijo* adivinanza* miente mienten mentiroso* deduc* lógica* premisa* restricción restricciones "
    "falacia falacias silogismo orden "
    "charada* enigma* mentiroso mentirosa  "
    "indovinell* bugiard* logica "
    "énigme enigme devinette* menteur menteurs ment+toujours sophisme "
    # de nl sv fi pl cs
    "rätsel rätsels lügt lügen lügner* folgere schließe logik* prämisse* bedingung* reihenfolge fehlschluss "
    "raadsel* puzzel* leugenaar* liegt+altijd "
    "gåta gåtor ljuger lögnare "
    "arvoitu* valehtel* päättele päättely* logiikka* premissi* ehdot ehto järjesty* "
    "zagadk* łamigłówk* kłamie kłamc* "
    "hádank* lže lhář* "
    # tr id vi
    "bilmece* bulmaca* mantık* yalan+söylüyor yalan+söyler yalancı* "
    "berbohong pembohong "
    "câu+đố nói+dối nói+thật "
    # ru uk el
    "загадк* головоломк* логик* лжец* лжёт лжет врёт врет рыцар* "
    "γρίφος αίνιγμα λογική ψεύδεται "
    # ar fa he hi
    "لغز ألغاز أحجية منطق يكذب كاذب "
    "معما منطق دروغ دروغگو "
    "חידה חידות היגיון משקר שקרן "
    "पहेली तर्क झूठ झूठा"
)
# "Could Napoleon have sent an email?": a possibility in the past, answered by a chain of facts.
POSSIBILITY = (  # alternatives, each starting with a literal
    *(rf"{modal} \w+(?: \w+)?(?: \w+)? have (?:been|\w+ed|seen|met|known|heard|eaten|drunk|flown|ridden|written|read|"
      r"worn|sent|taken|driven|bought|won|done|used)\b" for modal in ("could", "would", "might")),
    *(rf"{verb} haber\b" for verb in ("pudo", "podría", "podrían", "pudieron")),
    *(rf"{verb} (?:ter|conseguido)\b" for verb in ("poderia", "poderiam", "teria", "teriam")),
    r"potrebbe\b", r"potuto\b", r"aurait pu\b", r"auraient pu\b",
    *(rf"{verb} .{{1,60}} können\b" for verb in ("hätte", "hätten", "könnte", "konnte")),
    *(rf"{verb} ли\b" for verb in ("мог", "могла", "могли", "могло")), r"чи (?:міг|могла|могли)\b",
    r"czy (?:mógł|mogła|mogli|mogłaby|mógłby)\b", r"mohl\b", r"mohla\b", r"mohli\b",
    r"abilir (?:mi|mı)(?:ydi|ydı)?\b", r"ebilir (?:mi|mı)(?:ydi|ydı)?\b", r"zou (?:een|er)\b", r"kon (?:een|er)\b",
    r"kunde (?:en|ett|man)\b", r"skulle (?:en|ett|man)\b",
    "できた\\?", "ことができたの", "あり得る", "ありえる", "수 있었을까", "수 있었나", "가능했을까",
    "יכול היה", "יכולה הייתה", "هل كان (?:بإمكان|يمكن|يستطيع)", "सकता था", "सकती थी", "सकते थे",
    "liệu .{1,60} (?:có thể|được không)", r"bisakah\b", r"mungkinkah\b",
)
PUZZLE_SCRIPTS = (
    r"谜语|谜题|猜|打一|说真话|说谎|撒谎|推理|推断|逻辑|顺序|一定是|谁是|"
    r"なぞなぞ|パズル|論理|嘘つき|正直者|推理|"
    r"수수께끼|퍼즐|논리|거짓말|참말|추리|"
    r"ปริศนา|ตรรกะ|โกหก"
)
