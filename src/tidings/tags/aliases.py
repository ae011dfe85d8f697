"""Alias table and gazetteer for hashtag extraction: one canonical English name per entity.

Why a hand-made table: no NER model weights can be had offline, and the same story must end up
with the same hashtags whatever the spelling ("U.S." / "US" / "United States"), the language
(Estados Unidos, 미국, 米国) or the romanisation (Lee Jae-myung / Lee Jae Myung). It is kept
small on purpose: the big, frequently mentioned places, organisations and people, each with the
forms that news in en/de/fr/es/it/nl/ko/ja actually uses. Everything else is found by the rules
in tidings.tags.extract, which also read their word lists (titles, organisation words, Korean
particles...) from here.

Tables are written one entity a line, "Canonical | alias | alias", an indented "| ..." line
continuing the one above, so that they stay readable and the formatter leaves them alone.
Forms that would be ambiguous as plain words are left out on purpose (Korean 인도 "sidewalk",
수단 "means", Japanese タイ "tie", マスク "mask", single-kanji 米 "rice"); short all-capital forms
(US, UN, WHO) only match when written in capitals, see CAPITALS_ONLY.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Literal

Kind = Literal["person", "place", "organisation", "topic"]


def _table(text: str) -> dict[str, tuple[str, ...]]:
    entries: dict[str, tuple[str, ...]] = {}
    lines: list[str] = []
    for line in text.strip().splitlines():
        if line.lstrip().startswith("|"):
            lines[-1] += " " + line.strip()
        elif line.strip() and not line.startswith("#"):
            lines.append(line.strip())
    for line in lines:
        canonical, *forms = (part.strip() for part in line.split("|"))
        entries[canonical] = tuple(forms)
    return entries


def words(text: str) -> frozenset[str]:
    """A set of words written as one string, for readable word lists."""
    return frozenset(text.split())


def _longest_first(text: str) -> tuple[str, ...]:
    """Words tried as prefixes or suffixes: the longest must win ("에서" before "에")."""
    return tuple(sorted(text.split(), key=len, reverse=True))


# --- Places: countries, with their names in the languages Tidings reads -----------------------------
COUNTRIES = _table("""
United States | US | U.S. | USA | U.S.A. | America | United States of America | Vereinigte Staaten
    | États-Unis | Etats-Unis | Estados Unidos | EE.UU. | EEUU | Stati Uniti | Verenigde Staten | 미국
    | 米国 | アメリカ | 美国
United Kingdom | UK | U.K. | Britain | Great Britain | Großbritannien | Grossbritannien
    | Vereinigtes Königreich | Royaume-Uni | Grande-Bretagne | Reino Unido | Gran Bretaña
    | Regno Unito | Gran Bretagna | Verenigd Koninkrijk | Groot-Brittannië | 영국 | 英国 | イギリス
Japan | Japon | Japón | Giappone | 일본 | 日本
South Korea | Korea | Republic of Korea | ROK | Südkorea | Corée du Sud | Corea del Sur
    | Corea del Sud | Zuid-Korea | 한국 | 대한민국 | 남한 | 韓国 | 韩国
North Korea | DPRK | Nordkorea | Corée du Nord | Corea del Norte | Corea del Nord | Noord-Korea | 북한
    | 北朝鮮 | 朝鲜
China | PRC | Chine | Cina | 중국 | 中国 | 中國
Taiwan | Taïwan | Taiwán | 대만 | 台湾 | 臺灣
Russia | Russland | Russie | Rusia | Rusland | 러시아 | ロシア | 俄罗斯
Ukraine | Ucrania | Ucraina | Oekraïne | 우크라이나 | ウクライナ
Germany | Deutschland | Allemagne | Alemania | Germania | Duitsland | 독일 | ドイツ | 德国
France | Frankreich | Francia | Frankrijk | 프랑스 | フランス | 法国
Italy | Italien | Italie | Italia | Italië | 이탈리아 | イタリア
Spain | Spanien | Espagne | España | Spagna | Spanje | 스페인 | スペイン
Netherlands | the Netherlands | Holland | Niederlande | Pays-Bas | Países Bajos | Paesi Bassi
    | Nederland | 네덜란드 | オランダ
Belgium | Belgien | Belgique | Bélgica | Belgio | België | 벨기에 | ベルギー
Switzerland | Schweiz | Suisse | Suiza | Svizzera | Zwitserland | 스위스 | スイス
Austria | Österreich | Autriche | Oostenrijk | 오스트리아 | オーストリア
Poland | Polen | Pologne | Polonia | 폴란드 | ポーランド
Sweden | Schweden | Suède | Suecia | Svezia | Zweden | 스웨덴 | スウェーデン
Norway | Norwegen | Norvège | Noruega | Norvegia | Noorwegen | 노르웨이 | ノルウェー
Denmark | Dänemark | Danemark | Dinamarca | Danimarca | Denemarken | 덴마크 | デンマーク
Finland | Finnland | Finlande | Finlandia | 핀란드 | フィンランド
Ireland | Irland | Irlande | Irlanda | Ierland | 아일랜드 | アイルランド
Portugal | 포르투갈 | ポルトガル
Greece | Griechenland | Grèce | Grecia | Griekenland | 그리스 | ギリシャ
Hungary | Ungarn | Hongrie | Hungría | Ungheria | Hongarije | 헝가리 | ハンガリー
Czech Republic | Czechia | Tschechien | République tchèque | República Checa | Repubblica Ceca
    | Tsjechië | 체코 | チェコ
Romania | Rumänien | Roumanie | Rumania | Roemenië | 루마니아 | ルーマニア
Serbia | Serbien | Serbie | Servië | 세르비아 | セルビア
Belarus | Weißrussland | Biélorussie | Bielorrusia | Bielorussia | Wit-Rusland | 벨라루스 | ベラルーシ
Turkey | Türkiye | Türkei | Turquie | Turquía | Turchia | Turkije | 튀르키예 | 터키 | トルコ
Scotland | Schottland | Écosse | Escocia | Scozia | Schotland | 스코틀랜드
England | Angleterre | Inglaterra | Inghilterra | Engeland | 잉글랜드
Canada | Kanada | Canadá | 캐나다 | カナダ
Mexico | Mexiko | Mexique | México | Messico | 멕시코 | メキシコ
Brazil | Brasil | Brasilien | Brésil | Brasile | Brazilië | 브라질 | ブラジル
Argentina | Argentinien | Argentine | Argentinië | 아르헨티나 | アルゼンチン
Venezuela | 베네수엘라 | ベネズエラ
Colombia | Kolumbien | Colombie | 콜롬비아 | コロンビア
Chile | Chili | 칠레 | チリ
Peru | Perú | Pérou | 페루 | ペルー
Cuba | Kuba | 쿠바 | キューバ
Australia | Australien | Australie | Australië | 호주 | オーストラリア
New Zealand | Neuseeland | Nouvelle-Zélande | Nueva Zelanda | Nuova Zelanda | Nieuw-Zeeland | 뉴질랜드
    | ニュージーランド
India | Indien | Inde | 인디아 | インド
Pakistan | 파키스탄 | パキスタン
Afghanistan | Afganistán | 아프가니스탄 | アフガニスタン
Bangladesh | 방글라데시 | バングラデシュ
Indonesia | Indonesien | Indonésie | Indonesië | 인도네시아 | インドネシア
Philippines | Philippinen | Filipinas | Filippine | Filipijnen | 필리핀 | フィリピン
Vietnam | Viet Nam | Viêt Nam | 베트남 | ベトナム
Thailand | Thaïlande | Tailandia | Thailandia | 태국
Malaysia | Malaisie | Malasia | 말레이시아 | マレーシア
Singapore | Singapur | Singapour | 싱가포르 | シンガポール
Myanmar | Burma | 미얀마 | ミャンマー
Mongolia | 몽골 | モンゴル
Iran | Irán | イラン
Iraq | Irak | 이라크 | イラク
Syria | Syrien | Syrie | Siria | Syrië | 시리아 | シリア
Israel | Israël | 이스라엘 | イスラエル
Palestine | Palestinian territories | Palästina | Palestina | 팔레스타인 | パレスチナ
Lebanon | Libanon | Liban | Líbano | Libano | 레바논 | レバノン
Saudi Arabia | Saudi-Arabien | Arabie saoudite | Arabia Saudita | Arabia Saudí | Saoedi-Arabië
    | 사우디아라비아 | サウジアラビア
Qatar | Katar | 카타르 | カタール
United Arab Emirates | UAE | 아랍에미리트
Yemen | Jemen | 예멘 | イエメン
Egypt | Ägypten | Égypte | Egipto | Egitto | Egypte | 이집트 | エジプト
Libya | Libyen | Libye | Libia | 리비아 | リビア
Sudan | Soudan | Sudán | スーダン
Ethiopia | Äthiopien | Éthiopie | Etiopía | Etiopia | 에티오피아
Nigeria | 나이지리아 | ナイジェリア
Kenya | Kenia | 케냐 | ケニア
South Africa | Südafrika | Afrique du Sud | Sudáfrica | Sudafrica | Zuid-Afrika | 남아공 | 남아프리카공화국
    | 南アフリカ
""")

# --- Places: cities, regions, US states -------------------------------------------------------------
CITIES_AND_REGIONS = _table("""
Tokyo | Tokio | 도쿄 | 東京
Osaka | 오사카 | 大阪
Kyoto | 교토 | 京都
Okinawa | 오키나와 | 沖縄
Hokkaido | 홋카이도 | 北海道
Fukushima | 후쿠시마 | 福島
Hiroshima | 히로시마 | 広島
Seoul | 서울 | ソウル
Busan | Pusan | 부산 | 釜山
Incheon | 인천 | 仁川
Jeju | Jeju Island | 제주 | 済州
Pyongyang | 평양 | 平壌
Beijing | Peking | Pékin | Pekín | Pechino | 베이징 | 北京
Shanghai | Schanghai | 상하이 | 上海
Hong Kong | Hongkong | 홍콩 | 香港
Taipei | 타이베이 | 台北
Washington | Washington, D.C. | Washington D.C. | 워싱턴 | ワシントン
New York | New York City | NYC | Nueva York | 뉴욕 | ニューヨーク
Los Angeles | 로스앤젤레스 | ロサンゼルス
San Francisco | 샌프란시스코 | サンフランシスコ
Chicago | 시카고 | シカゴ
Moscow | Moskau | Moscou | Moscú | Mosca | Moskou | 모스크바 | モスクワ
Kyiv | Kiev | Kiew | Kyïv | 키이우 | キーウ
London | Londres | Londra | Londen | 런던 | ロンドン
Paris | Parigi | Parijs | 파리 | パリ
Berlin | Berlino | Berlijn | 베를린 | ベルリン
Brussels | Brüssel | Bruxelles | Bruselas | Brussel | 브뤼셀 | ブリュッセル
Rome | Rom | Roma | 로마 | ローマ
Madrid | 마드리드 | マドリード
Amsterdam | 암스테르담 | アムステルダム
Vienna | Wien | Vienne | Viena | Wenen | ウィーン
Geneva | Genf | Genève | Ginebra | Ginevra | 제네바 | ジュネーブ
Warsaw | Warschau | Varsovie | Varsovia | Varsavia | 바르샤바
Jerusalem | Jérusalem | Jerusalén | Gerusalemme | 예루살렘 | エルサレム
Tel Aviv | 텔아비브 | テルアビブ
Gaza | Gaza Strip | Gazastreifen | Bande de Gaza | Franja de Gaza | Striscia di Gaza | Gazastrook
    | 가자지구 | ガザ
West Bank | Westjordanland | Cisjordanie | Cisjordania | Westelijke Jordaanoever | 요르단강 서안
Tehran | Teheran | Téhéran | Teherán | 테헤란 | テヘラン
Istanbul | 이스탄불 | イスタンブール
New Delhi | Delhi | 뉴델리 | ニューデリー
Mumbai | Bombay | 뭄바이
Sydney | 시드니 | シドニー
Bangkok | 방콕 | バンコク
Jakarta | 자카르타 | ジャカルタ
Manila | 마닐라 | マニラ
Hanoi | 하노이 | ハノイ
Cairo | Kairo | Le Caire | El Cairo | Il Cairo | 카이로 | カイロ
Europe | Europa | 유럽 | ヨーロッパ | 欧州
Asia | Asien | Asie | Azië | 아시아 | アジア
Africa | Afrika | Afrique | 아프리카 | アフリカ
Middle East | Nahost | Naher Osten | Moyen-Orient | Oriente Medio | Medio Oriente | Midden-Oosten
    | 중동 | 中東
Latin America | Lateinamerika | Amérique latine | América Latina | Latijns-Amerika | 중남미
South America | Südamerika | Amérique du Sud | América del Sur | Sudamerica | 남미
North America | Nordamerika | Amérique du Nord | América del Norte | Noord-Amerika | Nord America | 북미주
Central America | Mittelamerika | Amérique centrale | Centroamérica | 중미
Southeast Asia | Südostasien | Asie du Sud-Est | Sudeste Asiático | 동남아시아 | 동남아 | 東南アジア
Korean Peninsula | 한반도 | 朝鮮半島
Crimea | Krim | Crimée | 크림반도 | クリミア
South China Sea | 남중국해 | 南シナ海
East China Sea | 동중국해 | 東シナ海
Taiwan Strait | 대만해협 | 台湾海峡
Indo-Pacific | 인도태평양 | インド太平洋
Arctic | Arktis | Arctique | Ártico | 북극
Antarctica | Antarktis | Antarctique | Antártida | 남극
Alabama
Alaska
Arizona
Arkansas
California | Kalifornien | Californie | 캘리포니아 | カリフォルニア
Colorado
Connecticut
Florida | Floride | 플로리다 | フロリダ
Hawaii | Hawaï | 하와이 | ハワイ
Illinois
Indiana
Iowa
Kansas
Kentucky
Louisiana
Massachusetts
Michigan
Minnesota
Mississippi
Missouri
Nevada
New Jersey
New Hampshire
Rhode Island
West Virginia
Maryland
New Mexico
North Carolina
Ohio
Oklahoma
Oregon
Pennsylvania
South Carolina
Tennessee
Texas | 텍사스 | テキサス
Utah
Virginia
Wisconsin
Quebec | Québec
Ontario
British Columbia
Bavaria | Bayern | Bavière | Baviera | Beieren
Catalonia | Katalonien | Catalogne | Cataluña | Catalogna | Catalonië
Kashmir
Xinjiang | 신장 | 新疆
Tibet | 티베트 | チベット
""")

# --- Organisations ----------------------------------------------------------------------------------
ORGANISATIONS = _table("""
United Nations | UN | U.N. | Vereinte Nationen | Nations unies | ONU | Naciones Unidas
    | Nazioni Unite | Verenigde Naties | 유엔 | 国連 | 国際連合
UN Security Council | Security Council | United Nations Security Council | UNSC | 유엔 안전보장이사회 | 안보리
    | 安全保障理事会 | 安保理
European Union | EU | E.U. | Europäische Union | Union européenne | UE | Unión Europea
    | Unione Europea | Europese Unie | 유럽연합 | 欧州連合
European Commission | Europäische Kommission | Commission européenne | Comisión Europea
    | Commissione europea | Europese Commissie | 유럽연합 집행위원회
NATO | OTAN | NAVO | North Atlantic Treaty Organization | 나토 | 北大西洋条約機構
World Health Organization | WHO | Weltgesundheitsorganisation | OMS | WGO
    | World Health Organisation | 세계보건기구 | 世界保健機関
International Monetary Fund | IMF | FMI | IWF | 국제통화기금 | 国際通貨基金
World Bank | Weltbank | Banque mondiale | Banco Mundial | Banca Mondiale | Wereldbank | 세계은행 | 世界銀行
World Trade Organization | WTO | OMC | 세계무역기구 | 世界貿易機関
OPEC | OPEP | 석유수출국기구
ASEAN | 아세안 | 東南アジア諸国連合
G7 | G-7 | Group of Seven | 주요 7개국
G20 | G-20 | Group of 20 | 주요 20개국
European Central Bank | ECB | EZB | BCE | 유럽중앙은행 | 欧州中央銀行
Federal Reserve | Fed | US Federal Reserve | 연준 | 연방준비제도 | FRB | 米連邦準備制度理事会
Bank of Japan | BOJ | BoJ | 일본은행 | 日本銀行 | 日銀
Bank of Korea | BOK | 한국은행 | 韓国銀行
International Olympic Committee | IOC | 국제올림픽위원회 | 国際オリンピック委員会
FIFA | 국제축구연맹
Red Cross | Rotes Kreuz | Croix-Rouge | Cruz Roja | Croce Rossa | Rode Kruis | 적십자
White House | Weißes Haus | Maison Blanche | Casa Blanca | Casa Bianca | Witte Huis | 백악관 | ホワイトハウス
Kremlin | Kreml | 크렘린 | クレムリン
Pentagon | Pentágono | 펜타곤 | 국방부 청사
FBI | Federal Bureau of Investigation | 연방수사국
CIA | Central Intelligence Agency | 중앙정보국
NASA | 미국 항공우주국 | アメリカ航空宇宙局
Hamas | 하마스 | ハマス
Hezbollah | Hisbollah | Hezbolá | 헤즈볼라 | ヒズボラ
Taliban | 탈레반 | タリバン
Islamic State | ISIS | ISIL | Daesh | Islamischer Staat | État islamique | Estado Islámico
    | Stato Islamico | Islamitische Staat | 이슬람국가 | イスラム国
Liberal Democratic Party | LDP | 자민당 | 自民党 | 自由民主党
Chinese Communist Party | CCP | CPC | Communist Party of China | 중국공산당 | 中国共産党
Democratic Party of Korea | 더불어민주당 | 共に民主党
People Power Party | 국민의힘 | 国民の力
Samsung | Samsung Electronics | 삼성전자 | 삼성 | サムスン | サムスン電子
Hyundai | Hyundai Motor | 현대차 | 현대자동차 | 現代自動車
Toyota | Toyota Motor | 도요타 | トヨタ | トヨタ自動車
Sony | 소니 | ソニー
Google | 구글 | グーグル
Apple | Apple Inc. | 애플 | アップル
Microsoft | 마이크로소프트 | マイクロソフト
Nvidia | NVIDIA | 엔비디아 | エヌビディア
Tesla | 테슬라 | テスラ
OpenAI | 오픈AI
TSMC | Taiwan Semiconductor Manufacturing | 台湾積体電路製造
Boeing | 보잉 | ボーイング
Airbus | 에어버스 | エアバス
General Motors | GM | 제너럴모터스 | ゼネラル・モーターズ
Facebook | Meta Platforms | 페이스북 | フェイスブック
Twitter | 트위터 | ツイッター
YouTube | 유튜브 | ユーチューブ
TikTok | 틱톡 | ティックトック
Amazon | Amazon.com | 아마존 | アマゾン
Huawei | 화웨이 | ファーウェイ | 华为
Netflix | 넷플릭스 | ネットフリックス
""")

# --- People: the names that recur across languages and romanisations --------------------------------
PEOPLE = _table("""
Donald Trump | Trump | 도널드 트럼프 | 트럼프 | ドナルド・トランプ | トランプ | 特朗普
Joe Biden | Biden | 조 바이든 | 바이든 | ジョー・バイデン | バイデン
Xi Jinping | Xi | 시진핑 | 習近平 | 习近平
Vladimir Putin | Putin | Wladimir Putin | Poutine | Vladimir Poutine | Vladímir Putin | 블라디미르 푸틴
    | 푸틴 | ウラジーミル・プーチン | プーチン
Volodymyr Zelensky | Zelensky | Zelenskyy | Zelenskiy | Zelenski | Selenskyj | Wolodymyr Selenskyj
    | Volodymyr Zelenskyy | 볼로디미르 젤렌스키 | 젤렌스키 | ゼレンスキー
Kim Jong Un | Kim Jong-un | Kim Jong-Un | 김정은 | 金正恩
Lee Jae-myung | Lee Jae Myung | Lee Jae-Myung | Lee Jaemyung | 이재명 | 李在明
Yoon Suk Yeol | Yoon Suk-yeol | Yoon Seok-youl | Yoon | 윤석열 | 尹錫悦
Moon Jae-in | Moon Jae In | Moon Jae-In | 문재인 | 文在寅
Fumio Kishida | Kishida | Kishida Fumio | 기시다 후미오 | 기시다 | 岸田文雄 | 岸田
Shigeru Ishiba | Ishiba | Ishiba Shigeru | 이시바 시게루 | 이시바 | 石破茂 | 石破
Sanae Takaichi | Takaichi | Takaichi Sanae | 다카이치 사나에 | 다카이치 | 高市早苗 | 高市
Shinzo Abe | Abe | Shinzō Abe | Abe Shinzo | 아베 신조 | 아베 | 安倍晋三 | 安倍
Emmanuel Macron | Macron | 에마뉘엘 마크롱 | 마크롱 | マクロン
Olaf Scholz | Scholz | 숄츠 | ショルツ
Friedrich Merz | Merz | 메르츠 | メルツ
Angela Merkel | Merkel | 메르켈 | メルケル
Keir Starmer | Starmer | 스타머 | スターマー
Narendra Modi | Modi | 모디 | モディ
Benjamin Netanyahu | Netanyahu | Netanjahu | 네타냐후 | ネタニヤフ
António Guterres | Antonio Guterres | Guterres | 구테흐스 | グテレス
Ursula von der Leyen | von der Leyen | 폰데어라이엔
Elon Musk | Musk | 일론 머스크 | 머스크
""")

# --- Topics that have fixed names -------------------------------------------------------------------
TOPICS = _table("""
COVID-19 | Covid-19 | COVID | Covid | coronavirus | Coronavirus | SARS-CoV-2 | 코로나19 | 코로나
    | 新型コロナウイルス | 新型コロナ
Super Tuesday
Dow Jones Industrial Average | Dow Jones | Dow Jones index | 다우존스 | ダウ平均
Nasdaq | NASDAQ | Nasdaq Composite | 나스닥 | ナスダック
S&P 500 | Standard & Poor's 500
FTSE 100 | FTSE
Nikkei 225 | Nikkei | 닛케이 | 日経平均株価 | 日経平均
KOSPI | Kospi | 코스피
Hang Seng | Hang Seng Index | 항셍
Black Friday
Brexit | 브렉시트 | ブレグジット
Olympics | Olympic Games | Olympische Spiele | Jeux olympiques | Juegos Olímpicos | Olimpiadi
    | Olympische Spelen | 올림픽 | オリンピック | 五輪
World Cup | FIFA World Cup | Weltmeisterschaft | Coupe du monde | Copa del Mundo | Copa Mundial
    | Mondiali | 월드컵 | ワールドカップ
Artificial intelligence | AI | A.I. | KI | Künstliche Intelligenz | intelligence artificielle
    | inteligencia artificial | intelligenza artificiale | 인공지능 | 人工知能
""")

# Adjectives of nationality: weak evidence (half a mention) for their country.
DEMONYMS = {
    name: forms[0]
    for name, forms in _table("""
American | United States
British | United Kingdom
Japanese | Japan
South Korean | South Korea
North Korean | North Korea
Chinese | China
Taiwanese | Taiwan
Russian | Russia
Ukrainian | Ukraine
German | Germany
French | France
Italian | Italy
Spanish | Spain
Dutch | Netherlands
Polish | Poland
Turkish | Turkey
Israeli | Israel
Palestinian | Palestine
Iranian | Iran
Iraqi | Iraq
Syrian | Syria
Indian | India
Pakistani | Pakistan
Australian | Australia
Canadian | Canada
Mexican | Mexico
Brazilian | Brazil
European | Europe
Egyptian | Egypt
Saudi | Saudi Arabia
""").items()
}

# Abbreviations that name two or three countries at once (日韓 = Japan–South Korea), as in
# "日韓外相会談" or "한미일 정상회의"; only Japanese and Korean text has them.
COMPOUNDS = _table("""
日韓 | Japan | South Korea
韓日 | South Korea | Japan
日米 | Japan | United States
米中 | United States | China
日中 | Japan | China
米韓 | United States | South Korea
米朝 | United States | North Korea
日朝 | Japan | North Korea
日露 | Japan | Russia
日米韓 | Japan | United States | South Korea
한일 | South Korea | Japan
한미 | South Korea | United States
한중 | South Korea | China
미중 | United States | China
북미 | North Korea | United States
북중 | North Korea | China
북러 | North Korea | Russia
한미일 | South Korea | United States | Japan
한일중 | South Korea | Japan | China
한·일 | South Korea | Japan
한·미 | South Korea | United States
한·미·일 | South Korea | United States | Japan
""")

# --- Lexicon for the rules in tidings.tags.extract (lower case) -------------------------------------

# Words before a name that make it a person: "Prime Minister Fumio Kishida", "le président Macron".
# Portfolio words (foreign, state...) are here too so that "Secretary of State Antony Blinken"
# splits after "State".
TITLE_WORDS = words(
    "president vice-president president-elect minister premier chancellor senator governor mayor "
    "mr mrs ms miss dr sen rep gov gen lt col sgt cpt capt adm prof sir dame lord lady "
    "king queen prince princess emperor empress pope cardinal archbishop bishop rev father sheikh emir "
    "ayatollah imam ambassador envoy secretary spokesman spokeswoman spokesperson chairman chairwoman "
    "chair chief executive ceo cfo founder judge justice prosecutor director professor speaker leader "
    "commissioner captain coach manager striker midfielder defender goalkeeper candidate lawmaker "
    "congressman congresswoman representative deputy general admiral commander officer detective "
    "superintendent inspector sergeant lieutenant colonel brigadier marshal corporal constable "
    "foreign defence defense finance interior home health trade economy state affairs emergencies "
    "emergency education energy environment labour labor transport agriculture "
    "republican democrat democratic conservative liberal "
    "herr frau präsident präsidentin kanzler kanzlerin bundeskanzler bundeskanzlerin ministerpräsident "
    "m mme mlle président présidente ministre chancelier chancelière sr sra presidente ministro ministra primer primera "
    "canciller señor señora signor signora sindaco burgemeester minister-president heer mevrouw"
)
# Endings of compound titles (Außenministerin, Bundespräsident, vicepresidente).
TITLE_ENDINGS = _longest_first(
    "minister ministerin kanzler kanzlerin präsident präsidentin presidente ministro ministra sekretär secretaris"
)
# Common given names: "Ron Perlman" is a person even when no title or "said" comes with it.
FIRST_NAMES = words(
    "james john robert michael william david richard joseph thomas charles christopher daniel matthew "
    "anthony mark donald steven paul andrew joshua kenneth kevin brian george timothy ronald edward jason "
    "jeffrey ryan jacob gary nicholas eric jonathan stephen larry justin scott brandon benjamin samuel "
    "gregory alexander frank patrick raymond jack dennis jerry tyler aaron jose adam nathan henry peter "
    "zachary douglas harold carl arthur gerald roger keith jeremy terry lawrence sean christian albert "
    "joe ethan austin jesse willie billy bruce bryan ralph roy jordan eugene wayne louis alan juan "
    "gabriel bobby johnny mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa "
    "nancy betty margaret sandra ashley kimberly emily donna michelle carol amanda dorothy melissa "
    "deborah stephanie rebecca sharon laura cynthia kathleen amy angela shirley anna brenda pamela emma "
    "nicole helen samantha katherine christine debra rachel carolyn janet catherine maria heather diane "
    "ruth julie olivia joyce virginia victoria kelly lauren christina joan evelyn judith megan andrea "
    "cheryl hannah jacqueline martha gloria teresa ann sara madison frances kathryn janice jean abigail "
    "alice judy sophia grace denise amber doris marilyn danielle beverly isabella theresa diana natalie "
    "brittany charlotte marie kayla alexis lori greta ian tony ron tim jim tom bill bob mike dan sam "
    "ben nick chris steve matt ted hans klaus jürgen wolfgang stefan andreas thomas michael angela "
    "jean pierre jacques françois michel philippe marie sophie isabelle nathalie carlos luis miguel "
    "javier antonio manuel francisco pedro pablo jorge alejandro giuseppe giovanni marco luca paolo "
    "francesco alessandro andrea matteo jan piet kees willem sergei vladimir dmitry alexei igor olga "
    "natalia irina yuri ahmed mohammed muhammad ali hassan omar abdullah fatima"
)
# After (or before) a name: "Kishida said", "said Smith". Evidence of a person when the name repeats.
SAID_WORDS = words(
    "said says told added explained stated wrote noted argued insisted warned sagte erklärte betonte "
    "dijo afirmó declaró explicó ha detto ha dichiarato zei verklaarde"
)
# Any of these words in a name makes it an organisation ("Federal Security Service", "Bank of Japan").
ORGANISATION_WORDS = words(
    "inc corp corporation ltd llc plc co company companies party ministry department agency bank "
    "university council association group committee commission service institute foundation federation "
    "authority court police army navy force forces organization organisation airlines airways motors "
    "holdings times post journal club fc church congress parliament senate assembly office board bureau "
    "center centre school college hospital network fund administration union league brigade guard "
    "society trust corps command laboratories labs museum studios electronics technologies systems "
    "pharmaceuticals government cabinet tribunal bundestag bundesrat knesset duma diet patrol survey "
    "ag gmbh se sa spa nv bv partei ministerium universität gruppe bundesamt polizei gericht "
    "partido ministerio universidad banco gobierno parti ministère université banque gouvernement "
    "partito ministero università banca governo partij ministerie universiteit regering"
)
# Single words that only name a kind of organisation: "the Ministry", "the Committee".
BARE_INSTITUTIONS = ORGANISATION_WORDS - words("congress parliament senate bundestag bundesrat knesset duma")
PLACE_WORDS = words(
    "city province prefecture county island islands river mountain mountains mount lake bay sea ocean "
    "strait peninsula valley region district desert coast gulf airport street square bridge station "
    "canal volcano provinz stadt insel fluss ville île région provincia ciudad isla città isola regione "
    "stad eiland"
)
# "North Poland", "Southern California": a direction before a place is still a place.
COMPASS_WORDS = words("north south east west northern southern eastern western central northeast northwest")
# Words before a capitalised word that make it a place: "in Magnitogorsk", "near Kyiv" ("to", "from"
# are left out: "sold to Chrysler").
PLACE_PREPOSITIONS = words("in near outside across throughout en à nach bij")
# Short words allowed inside a name: "Bank of Japan", "Ministry of Foreign Affairs", "Ursula von der Leyen".
CONNECTORS = words("of for the de del della di da do dos das du des la le van von der den bin")
# Connectors that belong to a person's name when one word follows: "van Gogh", "de Gaulle", "von der Leyen".
NAME_PARTICLES = words("van von der den de da di del della du des la le bin al el dos das do")
# Words that take an "of" complement as part of a name: "Gulf of Oman", "Duke of York", "House of Lords".
OF_HEADS = words("house duke duchess statue republic kingdom state states people church order city gulf")
# Endings of adjectives ("Cuban authorities", "Martian brines", "Congressional term"): not names.
ADJECTIVE_ENDINGS = ("an", "ian", "ean", "ese", "ish", "ic", "al", "aanse", "aans", "ische", "isch", "ais", "aise",
                     "iano", "iana", "ense", "esi")  # fmt: skip
WEEKDAYS_AND_MONTHS = words(
    "monday tuesday wednesday thursday friday saturday sunday january february march april may june july "
    "august september october november december jan feb mar apr jun jul aug sep sept oct nov dec "
    "montag dienstag mittwoch donnerstag freitag samstag sonntag januar februar märz juni juli oktober "
    "dezember lundi mardi mercredi jeudi vendredi samedi dimanche janvier février mars avril mai juin "
    "juillet août septembre octobre novembre décembre lunes martes miércoles jueves viernes sábado "
    "domingo enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre "
    "lunedì martedì mercoledì giovedì venerdì sabato domenica gennaio febbraio aprile maggio giugno "
    "luglio settembre ottobre dicembre maandag dinsdag woensdag donderdag vrijdag zaterdag zondag "
    "januari februari maart mei augustus"
)
# News agencies and page furniture: credits, not subjects.
CREDITS = words(
    "reuters ap afp kyodo yonhap xinhua dpa ansa efe upi jiji wikinews wn getty copyright advertisement "
    "newsletter subscribe 연합뉴스 뉴시스 뉴스1 共同通信 時事通信 新華社"
) | {
    "kyodo news", "yonhap news agency", "jiji press", "associated press", "agence france presse",
    "bloomberg news", "getty images", "read more", "all rights reserved", "click here", "sign up",
    "file photo", "related articles", "related news", "see also", "external links", "sources",
}  # fmt: skip
# Capitalised words that are never names on their own.
NOT_NAMES = words(
    "i the a an this that these those there here it its he she they we you his her their our "
    "however but and or so if when while after before since although though yet also then meanwhile "
    "according mr mrs ms dr today yesterday tomorrow tonight now on in at by for from to with as "
    "is are was were do does did has have had would could should must be been being "
    "breaking update updated live exclusive analysis opinion editorial report reports news image images "
    "photo photos picture video file caption credit source sources category "
    "et al ok tv ceo cfo pm am gmt utc est pst bst id no yes vs"
)
# Articles start a sentence, but also "El Paso", "La Jolla", "Den Haag": dropped at a sentence start or
# before a longer name ("las Fuerzas Aéreas").
ARTICLES = words("el la los las le les il lo gli un una uno une de het een der die das den dem des ein eine")
# Lower-case keyphrase words that make a phrase too generic to be a topic (at either end).
GENERIC_WORDS = words(
    "said says say told tells added according people person persons man men woman women year years "
    "time times day days week weeks month months today yesterday tomorrow morning afternoon evening "
    "night weekend percent per cent million millions billion billions thousand thousands hundreds number "
    "numbers part parts government governments official officials report reports reported statement "
    "statements news country countries city state states world group groups thing things way ways "
    "lot lots case cases issue issues problem problems fact facts end start first last new old "
    "local national international public major several many much more most other others another "
    "asked reporters media source sources including included announced confirmed expected likely "
    "possible recent recently current currently earlier later wikinews interview least total level "
    "levels area areas side sides member members leader leaders child children kid kids girl girls boy "
    "boys student students victim victims resident residents family families worker workers passenger "
    "passengers authorities police location locations study studies researcher researchers scientist "
    "scientists expert experts team teams company companies firm firms plan plans deal deals week's "
    "stage result results change changes use work home house life place places information details "
    "order support help effort efforts move decision question questions death deaths highest lowest "
    "largest biggest face event events street streets made make makes found find took take gave give "
    "held hold got get went came began left saw see seen called call calls "
    "año años mundo anno anni mondo jaar wereld jahr jahre welt année monde vorig precedente rispetto "
    "nieuwe nuevo nueva nuovo nuova neue neuen nouveau nouvelle millones milioni miljoen millionen "
    "gobierno governo regering regierung gouvernement país paese land pays ciudad città stad stadt ville "
    "personas persone mensen menschen personnes parte deel teil partie"
)
GENERIC_PHRASES = {
    "press conference", "news conference", "state media", "social media", "last week", "last year",
    "this year", "next year", "last month", "next week", "prime minister", "foreign minister",
    "the government", "local time", "local media", "news agency", "statement released",
}  # fmt: skip

# --- Korean and Japanese: no capitals, so word lists do the work -----------------------------------

# Particles stripped from the end of a Korean word, longest first: 한국은 → 한국.
KO_PARTICLES = _longest_first(
    "에서는 에서도 에게서 으로는 으로도 으로서 으로써 이라는 이라고 에서 에게 으로 까지 부터 보다 처럼 "
    "과의 와의 에는 에도 로는 로도 라는 라고 이며 은 는 이 가 을 를 의 에 로 와 과 도 만"
)
# Particles that also end many nouns (가미카와, 민주주의, 경기도): stripped only when the bare noun occurs.
KO_AMBIGUOUS_PARTICLES = words("이 가 의 와 과 도 만 로 에")
# Endings of verbs and adjectives: such words are never hashtags.
KO_PREDICATE_ENDINGS = _longest_first(
    "다 며 면서 했고 하고 하는 했던 되는 있는 없는 했으나 지만 는데 라며 하기 위한 대한 통한 관한 따른 위해 "
    "해야 하게 어서 아서 해서 하며 려고 도록 거나 았고 었고 겠고 된 될 할 하여 서도 해서는 라도"
)
KO_TITLES = words(
    "대통령 총리 장관 차관 의원 위원장 대표 씨 주석 총서기 국왕 여왕 교황 대변인 회장 부회장 사장 감독 선수 대사 "
    "지사 후보 외무상 외상 국무장관 총재 의장 원내대표 비서실장 실장 청장 검찰총장 수석"
)
KO_ORGANISATION_SUFFIXES = _longest_first(
    "위원회 은행 대학교 대학 협회 그룹 전자 자동차 공사 재단 연구원 연구소 기구 연합 법원 부 청 처 당"
)
KO_ORGANISATIONS = words("국회 검찰 경찰 법원 청와대 대통령실 국정원 합참")
KO_STOPWORDS = words(
    "것 등 수 이번 지난 오늘 어제 내일 올해 지난해 내년 이날 당시 현재 최근 이후 이전 관련 문제 대해 통해 위해 "
    "따라 우리 그는 그녀는 이는 또한 하지만 그러나 그리고 한편 이어 또 정부 대통령 총리 장관 기자 뉴스 관계자 "
    "국가 양국 양측 회담 회의 발표 입장 상황 가운데 전망 예정 계획 가능성 필요 경우 때문 사실 이상 이하 시간 "
    "오전 오후 기간 지역 세계 국제 사회 경제 정치 국민 사람 시민 당국 대변인 발언 언급 강조 설명 주장 평가 "
    "분석 결과 내용 방안 협력 관계 논의 합의 정상 외교 이라며 밝혔다 말했다 했다 있다 없다 한다 "
    "된다 무단 전재 재배포 금지 저작권자 특파원 앞서 특히 다만 아울러 이와 함께 모두 모든 가장 매우 다시 "
    "이미 아직 계속 바로 직접 처음 마지막 주요 전날 이달 다음 지금 여기 그것 이것 자신 서로 각국 "
    "대통령실 국제사회 의원 위원장 대표 부분 정도 이유 목적 의미 측면 중요 양자 이날 오는 지난달 다음달"
)
JA_PERSON_SUFFIXES = _longest_first(
    "官房長官 国務長官 外務大臣 防衛大臣 委員長 幹事長 報道官 大統領 首相 外相 総理 大臣 長官 知事 議員 総裁 "
    "代表 社長 会長 主席 総書記 大使 監督 選手 容疑者 被告 氏 さん"
)
JA_ORGANISATION_SUFFIXES = _longest_first(
    "省 庁 党 銀行 大学 委員会 協会 機構 連合 裁判所 警察 新聞 放送 財団 公社 電力 自動車 電機 証券 商事 研究所"
)
JA_PLACE_SUFFIXES = _longest_first("県 市 町 村 府 州 島 区 半島 空港")
JA_STOPWORDS = words(
    "政府 首相 大統領 外相 記者 会見 記者会見 発表 今日 昨日 明日 今年 昨年 来年 今月 先月 来月 午前 午後 時間 "
    "問題 関係 状況 可能 必要 予定 方針 一方 以上 以下 今回 前回 同日 同氏 同国 両国 両氏 各国 国内 海外 世界 "
    "社会 経済 政治 会議 会談 協議 確認 強調 表明 指摘 説明 対応 検討 実施 開催 発生 影響 結果 意見 内容 "
    "理由 目的 方向 対象 情報 報道 関係者 担当 当局 地域 国際 全国 写真 提供 撮影 配信 転載 禁止 最新 速報 "
    "続報 一部 全体 多数 今後 現在 当時 首脳 大臣 長官 委員長 代表 日本人 人々 国民 都市 首都 同市 同県 "
    "意向 考え 姿勢 立場 協力 連携 強化 改善 懸念 期待 表示 合意 重要 課題 見通し 水準 両首脳 両外相 "
    "共同通信 時事通信 読売新聞 朝日新聞 毎日新聞 産経新聞 日本経済新聞 東京新聞 "
    "ニュース コメント サービス システム データ メディア ポイント ページ サイト リンク シェア アプリ ログイン "
    "ユーザー メンバー プレミアム オンライン"
)

# --- Lookups built from the tables -------------------------------------------------------------------

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7a3]")


@lru_cache(maxsize=65536)
def alias_key(text: str) -> str:
    """The form names are compared in: case, accents, dots, hyphens and apostrophes do not count."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if not _CJK.search(text):
        # Accents go only outside CJK, where NFKD would also split kana voicing marks.
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = re.sub(r"[.'’`]", "", text)
    return re.sub(r"[\s\-‐–·・_/]+", " ", text).strip()


_WORD = re.compile(r"\w+")


def padded_words(text: str) -> str:
    """Words of the key between spaces (" japan south korea talks "), for whole-word containment tests."""
    return " " + " ".join(_WORD.findall(alias_key(text))) + " "


KIND_OF: dict[str, Kind] = {}
ALIASES: dict[str, str] = {}  # alias_key(form) -> canonical name
FORMS_OF: dict[str, tuple[str, ...]] = {}  # canonical name -> every form, the canonical first
# Keys whose forms are all short capitals (US, UN, WHO): "us", "who" in lower case are words.
CAPITALS_ONLY: set[str] = set()


def _register(table: dict[str, tuple[str, ...]], kind: Kind) -> None:
    for canonical, forms in table.items():
        KIND_OF[canonical] = kind
        FORMS_OF[canonical] = (canonical, *dict.fromkeys(f for f in forms if f != canonical))
        for form in FORMS_OF[canonical]:
            key = alias_key(form)
            ALIASES.setdefault(key, canonical)
            if re.fullmatch(r"[A-Z][A-Z.\-]{0,5}", form) and alias_key(canonical) != key:
                CAPITALS_ONLY.add(key)


_register(COUNTRIES, "place")
_register(CITIES_AND_REGIONS, "place")
_register(ORGANISATIONS, "organisation")
_register(PEOPLE, "person")
_register(TOPICS, "topic")
# A key that is also spelled in lower case somewhere ("covid") is not capitals-only after all.
CAPITALS_ONLY -= {alias_key(f) for forms in FORMS_OF.values() for f in forms if not f.isupper()}
DEMONYM_KEYS: dict[str, str] = {alias_key(k): v for k, v in DEMONYMS.items()}


def lookup(surface: str) -> str | None:
    """The canonical name for a surface form, honouring capitals-only abbreviations."""
    key = alias_key(surface)
    canonical = ALIASES.get(key)
    if canonical is None or (key in CAPITALS_ONLY and not surface.isupper()):
        return None
    return canonical


@lru_cache(maxsize=1)
def cjk_forms() -> dict[str, tuple[str, ...]]:
    """Korean/Japanese/Chinese form -> canonical name(s), for substring scanning of CJK text."""
    forms: dict[str, tuple[str, ...]] = {}
    for canonical, all_forms in FORMS_OF.items():
        for form in all_forms:
            if _CJK.search(form) and len(form) >= 2:
                forms.setdefault(form, (canonical,))
    forms.update(COMPOUNDS)
    return forms


def compounds_naming(canonical: str) -> tuple[str, ...]:
    """The compounds that name `canonical` among others: 日韓 names Japan."""
    return tuple(form for form, names in COMPOUNDS.items() if canonical in names)
