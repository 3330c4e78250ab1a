"""Cue words of the signals, per language: what says code, math or a puzzle beyond English.

Entries are lower-case: a word, a stem written `stem*`, or words in a row written `first+second`
(Vietnamese writes a word as several syllables; a pair matches hyphenated too, "p+value" "p-value").
Scripts without spaces between words (Chinese, Japanese, Thai) and Korean, whose syllables the
tokenizer splits, are matched by the regular expressions of `*_SCRIPTS` and `POSSIBILITY`; those are
written as `normalise` writes text (Arabic yeh and kaf in their Persian forms, alef without hamza),
while the word lists are normalised where they are read.
Only words that say the category on their own are listed: "error", "table" or "class" do not
(they are as common in general requests); "function" and "formula" do, in every language where
they belong to code and math alike, so they are counted by both signals. Nor are words another
language uses every day (Polish "jest" is "is", Portuguese "lua" the moon, Italian "scala" stairs,
Spanish "sed" thirst and "primo" a cousin, Dutch "winkel" a shop, Swedish "orden" the words) or that
name everyday things in their own (Spanish "consulta", Czech "dotaz": a question; a school "class"):
a name that is a word elsewhere is listed with what makes it code ("vuejs", "brew+install").
"""

# --- code ---------------------------------------------------------------------------------------
PROGRAMMING = (
    # en
    "python javascript typescript java rust golang kotlin swift sql bash shell zsh regex api json html css "
    "docker kubernetes git pandas numpy react django flask matlab pytorch function functions code program "
    "programs programming algorithm* script* compil* debug* bug bugs exception arrays array recursi* endpoint "
    "refactor* variable variables string strings dataframe query implement* compiler method methods "
    "frontend backend npm pip yarn webpack vitejs nodejs vuejs angular svelte jquery csharp dotnet "
    "unity godot arduino raspberry vba macro macros sqlite postgres postgresql mysql mongodb redis graphql "
    "stacktrace traceback segfault nullpointerexception typeerror syntaxerror valueerror runtime localhost "
    "linux ubuntu nginx apache yaml yml toml xml dockerfile makefile cmake gradle maven jvm php laravel "
    "perl haskell elixir cpp fortran cobol powershell cmd cli "
    "pygame tkinter selenium scrapy beautifulsoup fastapi swiftui flutter android ios xcode "
    "vscode jupyter colab github gitlab bitbucket oauth jwt cors http https websocket "
    # es pt it fr de nl sv fi pl cs tr id (Latin script)
    "función funciones funcion funktion funktionen funktio* fonction fonctions funzione funzioni função funções "
    "funcao funcoes functie fungsi fonksiyon* funkcj* funkce "
    "código codigo koodi* quellcode codice kód kod kodu kodun kodla* kodlar* kode programa* programm* ohjelm* "
    "programmeer* programowa* programl* pemrograman "
    "algoritm* depura* recursi* rekursi* implementa* método methode metodo metoda metod "
    "luokka* abfrage sorgu* kueri "
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
    "grep awk curl wget powershell cmdlet bash zsh homebrew brew+install pip3 conda venv virtualenv "
    "npm yarn pnpm webpack babel eslint pytest junit unittest "
    "localhost cors nginx htaccess ssl tls dns "
    "modulenotfounderror importerror keyerror indexerror attributeerror nameerror zerodivisionerror "
    "undefined nullreferenceexception stackoverflow segmentation+fault "
    "excel vba google+sheets libreoffice+calc"
)
DEVELOPER_SCRIPTS = r"正则表达式|正規表現|정규식|크론|깃허브|깃(?![발털])|エクセル|엑셀|스프레드시트|スプレッドシート|电子表格"
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
    "cuánto cuantos número+primo números+primos polinomio* porcentaje área perímetro triángulo círculo ángulo matriz "
    "entero enteros promedio simplifica varianza "
    "resolva equação equações probabilidade triângulo porcentagem quantos quantas calcul* "
    "equazione equazioni probabilità triangolo percentuale quanti quante calcol* "
    "résous resous équation* probabilité triangle pourcentage combien calcule* dérivée "
    # de nl sv fi pl cs
    "löse gleichung* ableitung* wahrscheinlichkeit beweise berechne* primzahl* polynom* prozent fläche "
    "dreieck* kreis* durchschnitt* vereinfache "
    "vergelijking* kans+op bereken* driehoek* oppervlakte gemiddelde afgeleide "
    "ekvation* sannolikhet* beräkna* räkna* triangel* medelvärde derivata procent "
    "ratkaise yhtälö* yhtalo* integraali* derivaat* todennäköisyy* todista laske* alkulu* kolmio* ympyr* kulma* "
    "kokonaislu* keskiarvo* sievennä prosent*  "
    # pl: integrals and means in their own forms: "całk*" read "całkowicie" (completely), "średni*"
    # "średniowiecze" (the Middle Ages)
    "równani* prawdopodobieństw* oblicza* obliczy* obliczeni* obliczeń oblicz trójkąt* średnia średniej średnią pochodn* całka całki całkę całką "
    "całek całkach całkami całkowa* całkowe całkowego całkowej procent* ile+wynosi "
    "rovnic* pravděpodobnost* vypočít* trojúhelník* průměr* "
    # tr id vi
    "denklem* olasılık* hesapla hesaplay* hesaplan* hesaplam* üçgen* ortalama* türev* integral yüzde kaç+tane kaç+lira "
    "persamaan+kuadrat persamaan+linear hitung* segitiga turunan persen berapa "
    "phương+trình xác+suất tam+giác diện+tích trung+bình đạo+hàm tích+phân phần+trăm bao+nhiêu "
    # ru uk el
    "уравнени* вероятност* вычисл* посчита* треугольник* интеграл* производн* процент* сколько среднее "
    "рівнянн* ймовірн* обчисл* скільки трикутник* "
    "εξίσωσ* εξισώσ* πιθανότητα υπολόγισε τρίγωνο ποσοστό πόσα πόσο "
    # ar fa he hi
    "معادلة احتمال احسب مثلث مساحة متوسط نسبة مئوية تكامل مشتقة كم "
    "معادله محاسبه مساحت میانگین درصد "
    "משוואה הסתברות משולש ממוצע אחוז "
    "समीकरण प्रायिकता प्रतिशत त्रिभुज क्षेत्रफल औसत गणना कितना कितने कितनी हल"
)
# Primes (质数, 素数) are not the same characters inside 品质数据 (quality data), 像素数 (pixel count),
# 元素数量 or Japanese 要素数 (number of elements).
MATH_SCRIPTS = (
    r"求解|方程|计算(?![机器])|多少|积分(?![兑换制卡])|导数|概率|证明(?![书材])|三角形|面积|周长|质数(?![据量值])|素(?<![元要因像]素)数(?![据量值])|平均|整数|分数|百分之|"
    r"方程式|確率|面積|微分|積分|計算(?![機器])|パーセント|何通り|いくつ(?!か)|何個|"
    r"방정식|확률|삼각형|넓이|평균|미분|적분|퍼센트|계산|몇 개|얼마(?!나| 전)|"
    r"สมการ|ความน่าจะเป็น|สามเหลี่ยม|ค่าเฉลี่ย|เปอร์เซ็นต์|คํานวณ"
)

# Concepts of school and university maths, for a maths idea asked in words, without numbers or
# formulas ("why is every continuous function on a closed interval bounded"). Words that also
# mean something in programming or everyday talk (function, field, set, series, mean, limit)
# appear only in a form that is maths alone (inverse+function).
MATH_CONCEPTS = (
    # en
    "injective surjective bijective bijection continuous+function continuous+functions "
    "differentiab* eigenval* eigenvec* "
    "linear+algebra vector+space vector+spaces subspace* linearly+independent linear+independence "
    "calculus algebra geometry trigonometr* topological+space combinatori* permutation* binomial* "
    "lemma axiom axioms axiomatic corollary by+induction mathematical+induction "
    "by+contradiction irrational+number irrational+numbers rational+number rational+numbers "
    "real+numbers complex+numbers natural+numbers infinitely+many countably uncountably "
    "countable+set uncountable+set set+theory modular+arithmetic congruent+modulo divisibility "
    "gcd lcm common+divisor common+multiple coprime group+theory isomorphism "
    "isomorphisms homomorphism* parabola hyperbola ellipse asymptot* tangent+line pythagor* "
    "polygon* polyhedr* perpendicular numerator denominator standard+deviation normal+distribution "
    "expected+value correlation+coefficient hypothesis+test hypothesis+testing p+value "
    "geometric+mean arithmetic+mean multiplication subtraction quotient exponentiation square+root "
    "infinite+series power+series taylor+series fourier+series geometric+series divergent+series "
    "inverse+function "
    "parallelogram quadrilateral converges+to "
    # es
    "inyectiva inyectivo sobreyectiva sobreyectivo biyectiva biyectivo función+continua derivable "
    "diferenciable autovalor* autovector* valor+propio valores+propios álgebra+lineal espacio+vectorial "
    "subespacio* trigonometría geometría combinatoria permutaci* binomio* axioma* corolario "
    "inducción+matemática por+inducción al+absurdo número+irracional "
    "números+irracionales número+racional números+racionales números+reales números+complejos "
    "números+naturales de+conjuntos subconjunto* común+divisor común+múltiplo "
    "hipérbola asíntota* polígono* poliedro* numerador denominador desviación+estándar "
    "distribución+normal valor+esperado media+geométrica media+aritmética raíz+cuadrada "
    "multiplicación sustracción cociente isomorfismo homomorfismo de+potencias coseno "
    "función+inversa "
    # pt
    "injetora injetiva sobrejetora sobrejetiva bijetora bijetiva função+contínua diferenciável "
    "derivável autovalor* autovetor* álgebra+linear espaço+vetorial subespaço* trigonometria geometria "
    "combinatória permutaç* binômio binómio axioma* corolário indução+matemática número+irracional "
    "números+irracionais números+racionais números+reais números+complexos números+naturais "
    "dos+conjuntos subconjunto* divisor+comum múltiplo+comum assíntota* "
    "polígono* poliedro* numerador denominador desvio+padrão distribuição+normal valor+esperado "
    "média+geométrica média+aritmética raiz+quadrada multiplicação subtração quociente "
    "isomorfismo homomorfismo de+potências cosseno função+inversa "
    # it
    "iniettiva iniettivo suriettiva suriettivo biiettiva biiettivo funzione+continua differenziabil* "
    "derivabil* autovalor* autovettor* algebra+lineare spazio+vettoriale sottospazi* trigonometria "
    "geometria calcolo+combinatorio permutazion* binomial* assioma* assiomi corollario "
    "induzione+matematica numero+irrazionale numeri+irrazionali numeri+razionali numeri+reali "
    "numeri+complessi numeri+naturali degli+insiemi sottoinsiem* comun+divisore "
    "comune+multiplo ellisse asintot* di+pitagora poligon* poliedr* numeratore "
    "denominatore deviazione+standard distribuzione+normale valore+atteso media+geometrica "
    "media+aritmetica radice+quadrata moltiplicazione sottrazione quoziente isomorfismo omomorfismo "
    "di+potenze coseno funzione+inversa "
    # fr
    "injective injectif surjective surjectif bijective bijectif bijection fonction+continue dérivable "
    "différentiable valeur+propre valeurs+propres vecteur+propre vecteurs+propres algèbre+linéaire "
    "espace+vectoriel trigonométri* géométrie combinatoire permutation* "
    "binôme binomial* axiome* corollaire par+récurrence "
    "nombre+irrationnel nombres+irrationnels nombres+rationnels "
    "nombres+réels nombres+complexes entiers+naturels des+ensembles sous+ensemble "
    "commun+diviseur pgcd ppcm asymptot* de+pythagore "
    "polygone* polyèdre* numérateur dénominateur écart+type loi+normale espérance+mathématique "
    "moyenne+géométrique moyenne+arithmétique racine+carrée multiplication soustraction quotient "
    "isomorphisme homomorphisme série+entière cosinus fonction+réciproque "
    # de
    "injektiv* surjektiv* bijektiv* stetige+funktion stetigkeit differenzierbar* eigenwert* "
    "eigenvektor* determinante lineare+algebra vektorraum* untervektorraum* trigonometrie geometrie "
    "kombinatorik permutation* binomialkoeffizient* axiom* korollar* vollständige+induktion "
    "widerspruchsbeweis irrationale+zahl irrationale+zahlen rationale+zahlen reelle+zahlen "
    "komplexe+zahlen natürliche+zahlen mengenlehre teilmenge* gemeinsamer+teiler ggt kgv "
    "teilerfremd* asymptot* des+pythagoras polyeder standardabweichung normalverteilung "
    "erwartungswert geometrisches+mittel arithmetisches+mittel quadratwurzel multiplikation "
    "subtraktion isomorphismus homomorphismus potenzreihe* konvergen* kosinus umkehrfunktion "
    # nl
    "injectief injectieve surjectief surjectieve bijectief bijectieve continue+functie "
    "differentieerbaar* eigenwaarde* eigenvector* lineaire+algebra vectorruimte* deelruimte* "
    "goniometrie meetkunde combinatoriek permutatie* binomiaal* axioma* corollarium volledige+inductie "
    "het+ongerijmde irrationaal+getal irrationale+getallen rationale+getallen "
    "reële+getallen complexe+getallen natuurlijke+getallen verzamelingenleer deelverzameling* "
    "gemene+deler gemene+veelvoud parabool asymptoot asymptoten "
    "van+pythagoras veelhoek* veelvlak* standaarddeviatie standaardafwijking "
    "normale+verdeling verwachtingswaarde meetkundig+gemiddelde rekenkundig+gemiddelde "
    "vierkantswortel vermenigvuldiging aftrekking quotiënt isomorfisme homomorfisme machtreeks* "
    "convergentie cosinus inverse+functie "
    # sv
    "injektiv* surjektiv* bijektiv* kontinuerlig+funktion deriverbar* differentierbar* egenvärde* "
    "egenvektor* linjär+algebra vektorrum* trigonometri geometri kombinatorik permutation* "
    "binomialkoefficient* axiom* korollarium matematisk+induktion induktionsbevis motsägelsebevis "
    "irrationellt+tal irrationella+tal rationella+tal reella+tal komplexa+tal naturliga+tal "
    "mängdlära delmängd* gemensamma+delare gemensamma+multipel asymptot* "
    "pythagoras+sats polygon* polyeder täljare nämnare standardavvikelse normalfördelning* "
    "väntevärde* geometriskt+medelvärde aritmetiskt+medelvärde kvadratrot* multiplikation "
    "subtraktion isomorfism* homomorfism* potensserie* konvergen* cosinus invers+funktion "
    # fi
    "injektiivi* surjektiivi* bijektiivi* jatkuva+funktio derivoituv* differentioituv* ominaisarvo* "
    "ominaisvektor* determinantti* lineaarialgebra* vektoriavaruu* aliavaruu* trigonometri* "
    "geometri* kombinatoriik* permutaatio* binomikerroin* aksiooma* seurauslause* induktiotodistu* "
    "epäsuora+todistus irrationaaliluku* rationaaliluku* reaaliluku* kompleksiluku* "
    "luonnolliset+luvut joukko+oppi osajoukko* yhteinen+tekijä yhteinen+monikerta "
    "paraabeli* hyperbeli* asymptootti* pythagoraan+lause monikulmio* monitahokas* nimittäjä* "
    "keskihajonta* normaalijakauma* odotusarvo* geometrinen+keskiarvo aritmeettinen+keskiarvo "
    "neliöjuuri* kertolasku* vähennyslasku* jakolasku* osamäärä* isomorfismi* homomorfismi* "
    "potenssisarja* kosini* käänteisfunktio* "
    # pl
    "różnowartościow* suriekcj* bijekcj* funkcja+ciągła ciągłość+funkcji różniczkowaln* "
    "wartość+własna wartości+własne wektor+własny wektory+własne wyznacznik+macierzy algebra+liniowa "
    "algebry+liniowej przestrzeń+liniowa przestrzeń+wektorowa podprzestrze* trygonometri* geometri* "
    "kombinatoryk* permutacj* dwumian* aksjomat* indukcja+matematyczna "
    "liczba+niewymierna liczby+niewymierne liczby+wymierne liczby+rzeczywiste liczby+zespolone "
    "liczby+naturalne teoria+mnogości podzbi* wspólny+dzielnik "
    "wspólna+wielokrotność nwd nww elips* asymptot* twierdzenie+pitagorasa wielokąt* "
    "wielościan* odchylenie+standardowe rozkład+normalny wartość+oczekiwana średnia+geometryczna "
    "średnia+arytmetyczna pierwiastek+kwadratowy mnożeni* odejmowani* izomorfizm* homomorfizm* "
    "szereg+potęgowy cosinus kosinus funkcja+odwrotna "
    # cs
    "injektivní surjektivní bijektivní prosté+zobrazení spojitá+funkce spojitost+funkce "
    "diferencovateln* vlastní+číslo vlastní+čísla vlastní+vektor determinantu determinantem lineární+algebra "
    "vektorový+prostor vektorového+prostoru podprostor* goniometri* geometri* kombinatorik* permutac* "
    "binomick* axiom* matematická+indukce důkaz+sporem iracionální+číslo iracionální+čísla "
    "racionální+čísla reálná+čísla komplexní+čísla přirozená+čísla teorie+množin podmnožin* "
    "společný+dělitel společný+násobek parabol* asymptot* pythagorova+věta "
    "mnohoúheln* mnohostěn* čitatel* jmenovatel* směrodatná+odchylka normální+rozdělení "
    "střední+hodnota geometrický+průměr aritmetický+průměr druhá+odmocnina násobení odčítání "
    "izomorfism* homomorfism* mocninná+řada konvergen* kosinus inverzní+funkce "
    # tr
    "birebir+fonksiyon örten+fonksiyon birebir+örten sürekli+fonksiyon türevlenebil* özdeğer* "
    "özvektör* determinantı determinantın lineer+cebir doğrusal+cebir vektör+uzayı vektör+uzayları altuzay* "
    "trigonometri* geometri* kombinatorik permütasyon* binom* aksiyom* tümevarım* olmayana+ergi "
    "irrasyonel+sayı irrasyonel+sayılar rasyonel+sayılar reel+sayılar gerçel+sayılar "
    "karmaşık+sayılar doğal+sayılar kümeler+teorisi altküme* ebob ekok aralarında+asal parabol* "
    "elips* asimptot* pisagor* çokgen* çokyüzlü* standart+sapma normal+dağılım "
    "beklenen+değer geometrik+ortalama aritmetik+ortalama karekök* çarpma+işlemi çıkarma+işlemi "
    "bölme+işlemi izomorfizm* homomorfizm* kuvvet+serisi yakınsak* yakınsama* kosinüs* ters+fonksiyon "
    # id
    "injektif surjektif bijektif fungsi+injektif fungsi+kontinu fungsi+kontinyu terdiferensialkan "
    "nilai+eigen vektor+eigen determinan aljabar+linear aljabar+linier ruang+vektor subruang "
    "trigonometri geometri kombinatorika permutasi binomial aksioma induksi+matematika "
    "dengan+kontradiksi bilangan+irasional bilangan+rasional bilangan+real bilangan+riil "
    "bilangan+kompleks bilangan+asli teori+himpunan himpunan+bagian fpb "
    "persekutuan+terbesar persekutuan+terkecil parabola hiperbola elips asimtot "
    "teorema+pythagoras segi+banyak poligon polihedron simpangan+baku "
    "distribusi+normal nilai+harapan rata+geometri rata+aritmatika akar+kuadrat perkalian "
    "isomorfisma isomorfisme homomorfisma deret+pangkat tak+hingga konvergen kosinus "
    "fungsi+invers "
    # vi: a word is a pair of syllables; "liên tục" (continuously), "tập hợp" (to gather), "đại số"
    # (as in "đại số đông", the majority) and "toán học" (the subject) are everyday talk, so they
    # are left out and a continuous function is "hàm liên"
    "đơn+ánh toàn+ánh song+ánh hàm+liên khả+vi trị+riêng vectơ+riêng tơ+riêng "
    "định+thức tuyến+tính gian+vectơ véc+tơ gian+con lượng+giác "
    "hình+học hoán+vị chỉnh+hợp nhị+thức tiên+đề phản+chứng vô+tỉ "
    "hữu+tỉ số+thực số+phức tập+con "
    "parabol hypebol elip tiệm+cận pytago đa+giác đa+diện "
    "tử+số mẫu+số lệch+chuẩn phối+chuẩn bình+cộng bình+nhân bậc+hai "
    "phép+nhân phép+trừ phép+chia đẳng+cấu đồng+cấu lũy+thừa hàm+ngược "
    # ru
    "инъективн* сюръекти* биекци* биективн* непрерывная+функция непрерывность+функции "
    "дифференцируем* собственное+значение собственные+значения собственный+вектор "
    "собственные+векторы определитель+матрицы линейная+алгебра линейной+алгебры "
    "векторное+пространство векторного+пространства подпространств* тригонометри* геометри* "
    "комбинаторик* биномиальн* аксиом* математическая+индукция от+противного "
    "иррациональное+число иррациональные+числа рациональные+числа действительные+числа "
    "вещественные+числа комплексные+числа натуральные+числа теория+множеств подмножеств* "
    "общий+делитель общее+кратное взаимно+простые парабол* эллипс эллипса "
    "асимптот* пифагор* многоугольник* многогранник* числитель* знаменател* стандартное+отклонение "
    "среднеквадратичное+отклонение нормальное+распределение математическое+ожидание "
    "среднее+геометрическое среднее+арифметическое квадратный+корень умножени* вычитани* "
    "изоморфизм* гомоморфизм* степенной+ряд сходимост* косинус* обратная+функция "
    # uk
    "бієктивн* неперервна+функція диференційовн* власне+значення власні+значення власний+вектор "
    "визначник+матриці лінійна+алгебра векторний+простір векторного+простору підпростор* "
    "тригонометрі* геометрі* комбінаторик* біноміальн* аксіом* математична+індукція "
    "від+супротивного ірраціональне+число ірраціональні+числа раціональні+числа "
    "дійсні+числа комплексні+числа натуральні+числа теорія+множин підмножин* "
    "спільний+дільник спільне+кратне взаємно+прості парабол* еліпс еліпса "
    "асимптот* піфагор* многокутник* багатокутник* многогранник* багатогранник* чисельник* "
    "знаменник* середньоквадратичне+відхилення стандартне+відхилення нормальний+розподіл "
    "математичне+сподівання середнє+геометричне середнє+арифметичне квадратний+корінь множення "
    "віднімання ізоморфізм* гомоморфізм* степеневий+ряд збіжніст* косинус* обернена+функція "
    # el
    "ενριπτικ* επιρριπτικ* αμφιρριπτικ* συνεχής+συνάρτηση παραγωγίσιμ* ιδιοτιμ* ιδιοδιάνυσμ* "
    "γραμμική+άλγεβρα διανυσματικός+χώρος διανυσματικού+χώρου υπόχωρ* τριγωνομετρί* "
    "γεωμετρί* συνδυαστική διωνυμικ* μαθηματική+επαγωγή σε+άτοπο άρρητος+αριθμός "
    "άρρητοι+αριθμοί ρητοί+αριθμοί πραγματικοί+αριθμοί μιγαδικοί+αριθμοί μιγαδικ* "
    "φυσικοί+αριθμοί θεωρία+συνόλων υποσύνολ* κοινός+διαιρέτης κοινό+πολλαπλάσιο "
    "ασύμπτωτ* πυθαγόρει* πολύγων* πολύεδρ* αριθμητής παρονομαστής "
    "τυπική+απόκλιση κανονική+κατανομή αναμενόμενη+τιμή γεωμετρικός+μέσος αριθμητικός+μέσος "
    "τετραγωνική+ρίζα πολλαπλασιασμ* ισομορφισμ* ομομορφισμ* δυναμοσειρ* συνημίτον* "
    "αντίστροφη+συνάρτηση "
    # ar
    "دالة+متباينة دالة+شاملة دالة+تقابلية دالة+متصلة دالة+مستمرة قابلة+للاشتقاق القيمة+الذاتية "
    "القيم+الذاتية المتجه+الذاتي الجبر+الخطي فضاء+متجهي الفضاء+المتجهي حساب+المثلثات "
    "التفاضل+والتكامل التباديل+والتوافيق التوافيق التباديل الاستقراء+الرياضي البرهان+بالتناقض "
    "البرهان+بالخلف غير+نسبي غير+النسبية الأعداد+النسبية الأعداد+الحقيقية "
    "الأعداد+المركبة الأعداد+العقدية الأعداد+الطبيعية نظرية+المجموعات مجموعة+جزئية "
    "المشترك+الأكبر المشترك+الأصغر القطع+المكافئ قطع+مكافئ القطع+الزائد "
    "قطع+زائد القطع+الناقص قطع+ناقص خط+مقارب فيثاغورس فيثاغورث مضلع متعدد+السطوح "
    "الانحراف+المعياري التوزيع+الطبيعي القيمة+المتوقعة الوسط+الهندسي الوسط+الحسابي "
    "المتوسط+الهندسي المتوسط+الحسابي الجذر+التربيعي جذر+تربيعي عملية+الضرب عملية+الطرح "
    "عملية+القسمة متسلسلة+القوى متسلسلة+لانهائية جيب+التمام الدالة+العكسية "
    # fa
    "تابع+پوشا تابع+دوسویی تابع+پیوسته مشتق+پذیر مقدار+ویژه مقادیر+ویژه "
    "بردار+ویژه دترمینان جبر+خطی فضای+برداری زیرفضا حساب+دیفرانسیل مثلثات هندسه ترکیبیات "
    "جایگشت اصل+موضوع استقرای+ریاضی برهان+خلف عدد+گنگ اعداد+گنگ اعداد+گویا اعداد+حقیقی "
    "اعداد+مختلط اعداد+طبیعی زیرمجموعه مقسوم+علیه مضرب+مشترک "
    "هذلولی مجانب فیثاغورس چندضلعی چندوجهی صورت+کسر مخرج+کسر انحراف+معیار توزیع+نرمال "
    "امید+ریاضی میانگین+هندسی میانگین+حسابی ریشه+دوم یکریختی همریختی سری+توانی همگرایی "
    "کسینوس تابع+وارون "
    # he
    "חד+ערכית פונקציה+רציפה ערך+עצמי ערכים+עצמיים וקטור+עצמי דטרמיננטה אלגברה+לינארית "
    "מרחב+וקטורי תת+מרחב טריגונומטריה גאומטריה גיאומטריה קומבינטוריקה אקסיומה אקסיומות "
    "אינדוקציה+מתמטית בדרך+השלילה אי+רציונלי אי+רציונליים מספרים+רציונליים "
    "מספרים+ממשיים מספרים+מרוכבים מספרים+טבעיים תורת+הקבוצות תת+קבוצה משותף+מקסימלי "
    "פרבולה היפרבולה אליפסה אסימפטוטה משפט+פיתגורס פיתגורס מצולע פאון סטיית+תקן "
    "התפלגות+נורמלית ממוצע+גאומטרי ממוצע+הנדסי ממוצע+חשבוני שורש+ריבועי איזומורפיזם "
    "הומומורפיזם טור+חזקות קוסינוס פונקציה+הפוכה "
    # hi
    "एकैकी+फलन आच्छादक+फलन एकैकी+आच्छादी संतत+फलन अवकलनीय आइगेन+मान सारणिक रैखिक+बीजगणित "
    "सदिश+समष्टि उपसमष्टि कलन अवकलन त्रिकोणमिति ज्यामिति बीजगणित क्रमचय द्विपद अभिगृहीत "
    "उपप्रमेय गणितीय+आगमन अपरिमेय+संख्या परिमेय+संख्या वास्तविक+संख्या सम्मिश्र+संख्या "
    "प्राकृत+संख्या समुच्चय+सिद्धांत उपसमुच्चय महत्तम+समापवर्तक लघुत्तम+समापवर्त्य सहअभाज्य "
    "परवलय अतिपरवलय दीर्घवृत्त पाइथागोरस बहुभुज बहुफलक मानक+विचलन सामान्य+बंटन अपेक्षित+मान "
    "गुणोत्तर+माध्य समांतर+माध्य वर्गमूल व्यवकलन भागफल अभिसरण कोज्या प्रतिलोम+फलन "
)
MATH_CONCEPTS_SCRIPTS = (
    # zh (simplified and traditional)
    r"单射|满射|双射|連續函數|连续函数|可微函数|可微分|特征值|特征向量|特徵值|特徵向量|行列式|"
    r"矩阵的秩|矩陣的秩|线性代数|線性代數|向量空间|向量空間|子空间|子空間|微积分|微積分|三角学|"
    r"三角函数|三角函數|拓扑学|拓撲學|组合数学|組合數學|排列组合|二项式|二項式|引理|公理|"
    r"数学归纳法|數學歸納法|反证法|反證法|无理数|無理數|有理数|有理數|实数集|复数域|集合论|集合論|"
    r"同余|同餘|整除|最大公约数|最大公因数|最大公因數|最小公倍数|最小公倍數|互质|互質|互素|群论|群論|"
    r"同构映射|群同态|同态映射|抛物线|拋物線|双曲线|雙曲線|椭圆(?!形)|橢圓(?!形)|渐近线|漸近線|切线|切線|斜率|"
    r"勾股定理|毕达哥拉斯|多边形|多邊形|多面体|多面體|对称轴|對稱軸|平行线|平行線|分母|标准差|標準差|"
    r"正态分布|常态分布|常態分佈|数学期望|數學期望|相关系数|相關係數|假设检验|假設檢定|几何平均|"
    r"算术平均|算術平均|平方根|乘法|减法|除法(?<!排除法)|幂级数|冪級數|无穷级数|無窮級數|泰勒级数|正弦|余弦|餘弦|"
    r"弧度|反函数|反函數|定义域|定義域|值域|"
    # ja
    r"単射|全射|全単射|連続関数|微分可能|固有値|固有ベクトル|線形代数|線型代数|ベクトル空間|部分空間|"
    r"微分積分|三角関数|位相空間|組合せ論|二項定理|二項係数|補題|数学的帰納法|背理法|実数|複素数|"
    r"自然数|部分集合|合同式|約数|最大公約数|互いに素|同型写像|準同型|放物線|楕円|接線|"
    r"三平方の定理|ピタゴラスの定理|多角形|対称軸|標準偏差|正規分布|期待値|仮説検定|相加平均|"
    r"相乗平均|掛け算|引き算|割り算|収束半径|一様収束|べき級数|ラジアン|逆関数|"
    # ko
    r"단사함수|전사함수|전단사|연속함수|미분가능|고유값|고윳값|고유벡터|행렬식|선형대수|벡터공간|"
    r"벡터 공간|부분공간|미적분|삼각함수|위상수학|조합론|순열|이항정리|이항계수|보조정리|따름정리|"
    r"수학적 귀납법|귀류법|유리수|복소수|자연수|집합론|부분집합|합동식|최대공약수|최소공배수|서로소|"
    r"군론|동형사상|준동형|포물선|쌍곡선|타원|점근선|접선|피타고라스|다각형|다면체|대칭축|평행선|"
    r"분모|표준편차|정규분포|기댓값|기대값|상관계수|가설검정|기하평균|산술평균|제곱근|곱셈|뺄셈|"
    r"나눗셈|멱급수|무한급수|코사인|라디안|역함수|정의역|치역|"
    # th
    r"ฟังก์ชันหนึ่งต่อหนึ่ง|ฟังก์ชันทั่วถึง|ฟังก์ชันต่อเนื่อง|ค่าลักษณะเฉพาะ|เวกเตอร์ลักษณะเฉพาะ|ดีเทอร์มิแนนต์|"
    r"พีชคณิตเชิงเส้น|ปริภูมิเวกเตอร์|แคลคูลัส|ตรีโกณมิติ|เรขาคณิต|พีชคณิต|การเรียงสับเปลี่ยน|ทวินาม|"
    r"สัจพจน์|บทแทรก|อุปนัยเชิงคณิตศาสตร์|จํานวนอตรรกยะ|จํานวนตรรกยะ|จํานวนเชิงซ้อน|ทฤษฎีเซต|สับเซต|"
    r"ตัวหารร่วมมาก|ตัวคูณร่วมน้อย|พาราโบลา|ไฮเพอร์โบลา|วงรี|เส้นกํากับ|เส้นสัมผัส|พีทาโกรัส|"
    r"รูปหลายเหลี่ยม|ทรงหลายหน้า|ส่วนเบี่ยงเบนมาตรฐาน|การแจกแจงปกติ|ค่าคาดหมาย|สัมประสิทธิ์สหสัมพันธ์|"
    r"การทดสอบสมมติฐาน|ค่าเฉลี่ยเรขาคณิต|ค่าเฉลี่ยเลขคณิต|รากที่สอง|อนุกรม|โคไซน์|เรเดียน|ฟังก์ชันผกผัน"
)

# --- reasoning ----------------------------------------------------------------------------------
PUZZLE = (
    # en
    "riddle riddles puzzle puzzles brainteaser lies lying liar liars knave knaves deduce "
    "deduction logically premise premises constraint constraints fallacy fallacies syllogism syllogisms "
    "therefore valid invalid conclude conclusion "
    # es pt it fr
    "acertijo* adivinanza* miente mienten mentiroso* deduc* lógica* premisa* restricción restricciones "
    "falacia falacias silogismo "
    "charada* enigma* mentiroso mentirosa  "
    "indovinell* bugiard* logica "
    "énigme enigme devinette* menteur menteurs ment+toujours sophisme "
    # de nl sv fi pl cs
    "rätsel rätsels lügt lügen lügner* folgere schliesse logik* prämisse* bedingung* reihenfolge fehlschluss "
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
    r"potrebbe(?: \w+){0,3} aver", r"potuto\b", r"aurait pu\b", r"auraient pu\b",
    *(rf"{verb} .{{1,60}} können\b" for verb in ("hätte", "hätten", "könnte", "konnte")),
    *(rf"{verb} ли\b" for verb in ("мог", "могла", "могли", "могло")), r"чи (?:міг|могла|могли)\b",
    r"czy (?:mógł|mogła|mogli|mogłaby|mógłby)\b", r"mohl\b(?! bys)", r"mohla\b(?! bys)", r"mohli\b(?! bys)",
    r"abilir (?:mi|mı)(?:ydi|ydı)?\b", r"ebilir (?:mi|mı)(?:ydi|ydı)?\b", r"zou (?:een|er)\b", r"kon (?:een|er)\b",
    r"kunde (?:en|ett|man)\b", r"skulle (?:en|ett|man)\b",
    "できた\\?", "ことができたの", "あり得る", "ありえる", "수 있었을까", "수 있었나", "가능했을까",
    "יכול היה", "יכולה הייתה", "هل کان (?:بامکان|یمکن|یستطیع)", "सकता था", "सकती थी", "सकते थे",
    "liệu .{1,60} (?:có thể|được không)", r"mungkinkah\b",
)
PUZZLE_SCRIPTS = (
    r"谜语|谜题|猜谜|猜一猜|猜猜|打一(?![个次下份些点])|说真话|说谎|撒谎|推理|推断|逻辑|顺序|一定是|"
    r"なぞなぞ|パズル|論理|嘘つき|正直者|推理|"
    r"수수께끼|퍼즐|논리|거짓말|참말|추리|"
    r"ปริศนา|ตรรกะ|โกหก"
)
