"""Static word lists the catalog draws from: genres, per-genre vocabularies, languages, names, countries.

Per-genre vocabularies make overviews, taglines, titles and keywords follow a movie's genres, so text
similarity between generated movies is meaningful (two horror films share words, a horror film and a
musical mostly do not).
"""

from __future__ import annotations

# TMDb's 19 movie genres (stable ids, English names).
GENRES: list[tuple[int, str]] = [
    (28, "Action"),
    (12, "Adventure"),
    (16, "Animation"),
    (35, "Comedy"),
    (80, "Crime"),
    (99, "Documentary"),
    (18, "Drama"),
    (10751, "Family"),
    (14, "Fantasy"),
    (36, "History"),
    (27, "Horror"),
    (10402, "Music"),
    (9648, "Mystery"),
    (10749, "Romance"),
    (878, "Science Fiction"),
    (10770, "TV Movie"),
    (53, "Thriller"),
    (10752, "War"),
    (37, "Western"),
]
GENRE_NAMES = dict(GENRES)

# Relative frequency of each genre as a movie's primary genre.
GENRE_WEIGHTS: dict[int, float] = {
    18: 0.21,
    35: 0.15,
    99: 0.10,
    27: 0.07,
    53: 0.06,
    28: 0.05,
    10749: 0.05,
    80: 0.04,
    16: 0.04,
    10751: 0.03,
    10402: 0.03,
    10770: 0.03,
    9648: 0.02,
    14: 0.02,
    878: 0.02,
    12: 0.02,
    36: 0.02,
    10752: 0.015,
    37: 0.015,
}

# Per genre: (characters, adjectives, events, settings, keywords).
GENRE_VOCAB: dict[int, tuple[list[str], list[str], list[str], list[str], list[str]]] = {
    28: (
        ["ex-commando", "bodyguard", "getaway driver", "special agent", "mercenary", "bounty hunter"],
        ["relentless", "explosive", "lethal", "unstoppable", "armed", "ruthless"],
        [
            "fights back against a private army",
            "races to stop a hijacked train",
            "takes down an arms cartel",
            "survives a deadly ambush",
            "leads a daring rescue mission",
        ],
        [
            "on the streets of a burning city",
            "aboard a cargo plane",
            "across a border checkpoint",
            "inside a fortified compound",
        ],
        ["martial arts", "car chase", "explosion", "shootout", "revenge", "hostage", "one man army"],
    ),
    12: (
        ["explorer", "treasure hunter", "young sailor", "cartographer", "expedition leader", "stowaway"],
        ["uncharted", "daring", "legendary", "perilous", "lost", "distant"],
        [
            "sets out to find a lost city",
            "follows an ancient map",
            "crosses a frozen wilderness",
            "searches for a legendary treasure",
            "journeys to the edge of the world",
        ],
        ["deep in the jungle", "on a remote island", "beyond the mountain pass", "across the open sea"],
        ["treasure", "expedition", "jungle", "island", "quest", "map", "shipwreck"],
    ),
    16: (
        ["talking rabbit", "little robot", "brave mouse", "young dragon", "clumsy penguin", "toy soldier"],
        ["colorful", "tiny", "magical", "curious", "cheerful", "enchanted"],
        [
            "sets off on a big adventure",
            "learns the true meaning of friendship",
            "rescues the forest animals",
            "builds a flying machine",
            "discovers a hidden kingdom",
        ],
        ["in a candy-colored village", "under the sea", "inside a toy shop", "in the enchanted woods"],
        ["talking animals", "anthropomorphism", "cartoon", "friendship", "computer animation", "toys"],
    ),
    35: (
        [
            "slacker",
            "wedding planner",
            "stand-up comedian",
            "clumsy groom",
            "substitute teacher",
            "roommate",
        ],
        ["hilarious", "awkward", "chaotic", "madcap", "outrageous", "quirky"],
        [
            "accidentally crashes a wedding",
            "fakes an engagement",
            "swaps lives with a rival",
            "inherits a failing pizzeria",
            "gets stuck on a disastrous road trip",
        ],
        [
            "in a small suburban town",
            "at a chaotic family reunion",
            "during a office holiday party",
            "on spring break",
        ],
        ["road trip", "wedding", "buddy comedy", "misunderstanding", "parody", "slapstick", "roommates"],
    ),
    80: (
        ["detective", "mob boss", "con artist", "getaway driver", "hitman", "crooked cop"],
        ["ruthless", "corrupt", "hardboiled", "notorious", "cunning", "violent"],
        [
            "plans one last heist",
            "infiltrates a drug cartel",
            "hunts a serial killer",
            "covers up a murder",
            "double-crosses the mob",
        ],
        [
            "in the criminal underworld",
            "on the docks of a gritty harbor",
            "in a rain-soaked city",
            "inside a maximum security prison",
        ],
        ["heist", "mafia", "gangster", "murder", "police", "drug cartel", "organized crime", "prison"],
    ),
    99: (
        ["filmmaker", "scientist", "musician", "activist", "athlete", "historian"],
        ["intimate", "revealing", "untold", "extraordinary", "candid", "real"],
        [
            "examines the rise of a global movement",
            "follows a year in the life of a community",
            "investigates an environmental disaster",
            "reveals the story behind a famous recording",
            "documents a record-breaking journey",
        ],
        ["through archival footage", "across five continents", "behind the scenes", "in rural villages"],
        ["biography", "nature", "interview", "archive footage", "environment", "politics", "sports"],
    ),
    18: (
        ["widow", "young teacher", "estranged son", "factory worker", "single mother", "aging father"],
        ["quiet", "fragile", "heartbreaking", "intimate", "tender", "bittersweet"],
        [
            "struggles to hold the family together",
            "returns home after many years",
            "confronts a painful secret",
            "faces a life-changing diagnosis",
            "searches for redemption",
        ],
        [
            "in a declining industrial town",
            "in a small coastal village",
            "in post-war Europe",
            "in the suburbs",
        ],
        ["family relationships", "grief", "coming of age", "loss", "redemption", "based on novel"],
    ),
    10751: (
        ["family dog", "grandmother", "young twins", "stepfather", "runaway puppy", "school principal"],
        ["heartwarming", "wholesome", "funny", "gentle", "festive", "joyful"],
        [
            "saves the family farm",
            "prepares for the holidays",
            "helps a lost animal find home",
            "learns to get along with a new sibling",
            "wins the big competition",
        ],
        ["at summer camp", "in a snowy mountain town", "on the family farm", "at grandmother's house"],
        ["christmas", "dog", "siblings", "holiday", "summer camp", "pets", "family"],
    ),
    14: (
        ["young wizard", "elf princess", "knight", "sorceress", "orphan heir", "dragon rider"],
        ["enchanted", "ancient", "mystical", "cursed", "forbidden", "legendary"],
        [
            "must break an ancient curse",
            "battles a dark sorcerer",
            "discovers a hidden magical power",
            "seeks a powerful artifact",
            "unites the warring kingdoms",
        ],
        [
            "in a realm of magic",
            "beyond the enchanted forest",
            "in a kingdom of dragons",
            "inside a forgotten castle",
        ],
        ["magic", "dragon", "wizard", "sword and sorcery", "curse", "kingdom", "mythology"],
    ),
    36: (
        ["emperor", "queen", "general", "revolutionary", "monk", "diplomat"],
        ["historic", "epic", "turbulent", "imperial", "revolutionary", "forgotten"],
        [
            "leads a rebellion against the crown",
            "negotiates a fragile peace treaty",
            "rises to the throne",
            "defends the city under siege",
            "changes the course of history",
        ],
        ["in ancient Rome", "during the French Revolution", "in medieval England", "in imperial China"],
        ["biography", "period drama", "monarchy", "revolution", "based on true story", "19th century"],
    ),
    27: (
        ["babysitter", "exorcist", "paranormal investigator", "final girl", "caretaker", "cult survivor"],
        ["haunted", "terrifying", "sinister", "bloody", "demonic", "cursed"],
        [
            "is stalked by a masked killer",
            "awakens an ancient evil",
            "moves into a haunted house",
            "is possessed by a demon",
            "becomes trapped with something in the dark",
        ],
        ["in an abandoned asylum", "deep in the woods", "in a remote cabin", "beneath the old church"],
        ["haunted house", "slasher", "ghost", "demon", "possession", "gore", "supernatural", "zombie"],
    ),
    10402: (
        ["singer", "drummer", "jazz pianist", "pop star", "choir director", "young violinist"],
        ["soulful", "rhythmic", "legendary", "electrifying", "melodic", "rocking"],
        [
            "chases a record deal",
            "reunites the band for one last tour",
            "competes in a singing contest",
            "writes the song of a lifetime",
            "plays a final concert",
        ],
        [
            "on the road with a rock band",
            "in the jazz clubs of New Orleans",
            "on a world tour",
            "at a music conservatory",
        ],
        ["concert", "musician", "band", "singer", "musical", "jazz", "rock and roll", "hip-hop"],
    ),
    9648: (
        ["amateur sleuth", "private investigator", "journalist", "inspector", "librarian", "heiress"],
        ["mysterious", "puzzling", "secretive", "enigmatic", "hidden", "baffling"],
        [
            "investigates a disappearance",
            "unravels a decades-old secret",
            "decodes a cryptic message",
            "solves a locked-room murder",
            "uncovers a hidden identity",
        ],
        ["in a remote manor", "on a fog-bound island", "in a sleepy village", "aboard a night train"],
        ["whodunit", "disappearance", "investigation", "secret", "amnesia", "clue", "detective"],
    ),
    10749: (
        ["bride", "florist", "novelist", "childhood sweetheart", "widower", "ballet dancer"],
        ["romantic", "passionate", "charming", "star-crossed", "tender", "forbidden"],
        [
            "falls in love with a stranger",
            "rekindles a summer romance",
            "is torn between two lovers",
            "finds love again",
            "writes letters to a secret admirer",
        ],
        ["in Paris", "on a Greek island", "in a vineyard in Tuscany", "in a snowy small town"],
        ["love", "romance", "wedding", "love triangle", "first love", "love letter", "second chance"],
    ),
    878: (
        ["astronaut", "android", "rogue scientist", "starship captain", "hacker", "clone"],
        ["futuristic", "dystopian", "alien", "cybernetic", "interstellar", "artificial"],
        [
            "makes first contact with aliens",
            "travels through time",
            "uncovers an artificial intelligence",
            "fights to survive on a dying planet",
            "leads a mission to the stars",
        ],
        ["aboard a space station", "in a dystopian megacity", "on a distant planet", "in the year 2150"],
        ["space", "alien", "time travel", "artificial intelligence", "dystopia", "robot", "future"],
    ),
    10770: (
        ["nurse", "small-town sheriff", "baker", "realtor", "lifeguard", "party planner"],
        ["cozy", "simple", "dramatic", "sweet", "small-town", "seasonal"],
        [
            "returns home for the holidays",
            "opens a bakery",
            "reconnects with an old flame",
            "solves a small-town mystery",
            "plans a festival",
        ],
        ["in a cozy small town", "at a seaside inn", "during the holidays", "in a mountain lodge"],
        ["holiday", "small town", "christmas", "television", "baking", "inn"],
    ),
    53: (
        ["witness", "whistleblower", "spy", "hostage negotiator", "stalker", "kidnapped heiress"],
        ["tense", "paranoid", "deadly", "suspenseful", "twisted", "gripping"],
        [
            "is framed for a murder",
            "races against time to stop a bomb",
            "becomes the target of a conspiracy",
            "is hunted by a killer",
            "uncovers a government cover-up",
        ],
        ["in a locked-down hotel", "in a sleepless city", "on a crowded subway", "inside a smart house"],
        ["conspiracy", "kidnapping", "serial killer", "stalker", "psychological thriller", "spy", "bomb"],
    ),
    10752: (
        ["soldier", "sniper", "fighter pilot", "medic", "resistance fighter", "platoon sergeant"],
        ["brutal", "heroic", "desperate", "wartime", "battle-scarred", "courageous"],
        [
            "holds the line against overwhelming odds",
            "escapes from a prison camp",
            "leads a platoon behind enemy lines",
            "rescues trapped soldiers",
            "survives the last battle",
        ],
        [
            "on the western front",
            "in occupied France",
            "in the jungles of Vietnam",
            "on the beaches of Normandy",
        ],
        ["world war ii", "world war i", "soldier", "battle", "resistance", "prisoner of war", "army"],
    ),
    37: (
        ["gunslinger", "sheriff", "outlaw", "rancher", "drifter", "bounty hunter"],
        ["dusty", "lawless", "wild", "lone", "rugged", "frontier"],
        [
            "defends a frontier town from outlaws",
            "seeks revenge for his family",
            "drives cattle across Texas",
            "faces a final showdown at noon",
            "escorts a prisoner to trial",
        ],
        ["in the old west", "on the Texas frontier", "in a desert mining town", "along the Rio Grande"],
        ["cowboy", "gunfight", "outlaw", "sheriff", "frontier", "saloon", "revenge", "desert"],
    ),
}

# original_language weights (ISO 639-1).
LANGUAGE_WEIGHTS: dict[str, float] = {
    "en": 0.45,
    "es": 0.07,
    "fr": 0.065,
    "pt": 0.04,
    "zh": 0.04,
    "de": 0.04,
    "ja": 0.05,
    "ru": 0.03,
    "it": 0.03,
    "ko": 0.025,
    "hi": 0.025,
    "sv": 0.01,
    "tr": 0.01,
    "pl": 0.01,
    "nl": 0.01,
    "da": 0.008,
    "ar": 0.01,
    "fi": 0.005,
    "cs": 0.005,
    "el": 0.005,
}

# iso_639_1 -> (english_name, native name)
LANGUAGE_NAMES: dict[str, tuple[str, str]] = {
    "en": ("English", "English"),
    "es": ("Spanish", "Español"),
    "fr": ("French", "Français"),
    "pt": ("Portuguese", "Português"),
    "zh": ("Mandarin", "普通话"),
    "de": ("German", "Deutsch"),
    "ja": ("Japanese", "日本語"),
    "ru": ("Russian", "Pусский"),
    "it": ("Italian", "Italiano"),
    "ko": ("Korean", "한국어/조선말"),
    "hi": ("Hindi", "हिन्दी"),
    "sv": ("Swedish", "svenska"),
    "tr": ("Turkish", "Türkçe"),
    "pl": ("Polish", "Polski"),
    "nl": ("Dutch", "Nederlands"),
    "da": ("Danish", "Dansk"),
    "ar": ("Arabic", "العربية"),
    "fi": ("Finnish", "suomi"),
    "cs": ("Czech", "Český"),
    "el": ("Greek", "ελληνικά"),
}

# language -> plausible production countries
LANGUAGE_COUNTRIES: dict[str, list[str]] = {
    "en": ["US", "US", "US", "GB", "CA", "AU"],
    "es": ["ES", "MX", "AR", "CO"],
    "fr": ["FR", "FR", "BE", "CA"],
    "pt": ["BR", "BR", "PT"],
    "zh": ["CN", "CN", "TW", "HK"],
    "de": ["DE", "DE", "AT", "CH"],
    "ja": ["JP"],
    "ru": ["RU", "RU", "SU"],
    "it": ["IT"],
    "ko": ["KR"],
    "hi": ["IN"],
    "sv": ["SE"],
    "tr": ["TR"],
    "pl": ["PL"],
    "nl": ["NL", "BE"],
    "da": ["DK"],
    "ar": ["EG", "LB", "SA"],
    "fi": ["FI"],
    "cs": ["CZ"],
    "el": ["GR"],
}

COUNTRY_NAMES: dict[str, str] = {
    "US": "United States of America",
    "GB": "United Kingdom",
    "CA": "Canada",
    "AU": "Australia",
    "ES": "Spain",
    "MX": "Mexico",
    "AR": "Argentina",
    "CO": "Colombia",
    "FR": "France",
    "BE": "Belgium",
    "BR": "Brazil",
    "PT": "Portugal",
    "CN": "China",
    "TW": "Taiwan",
    "HK": "Hong Kong",
    "DE": "Germany",
    "AT": "Austria",
    "CH": "Switzerland",
    "JP": "Japan",
    "RU": "Russia",
    "SU": "Soviet Union",
    "IT": "Italy",
    "KR": "South Korea",
    "IN": "India",
    "SE": "Sweden",
    "TR": "Turkey",
    "PL": "Poland",
    "NL": "Netherlands",
    "DK": "Denmark",
    "EG": "Egypt",
    "LB": "Lebanon",
    "SA": "Saudi Arabia",
    "FI": "Finland",
    "CZ": "Czech Republic",
    "GR": "Greece",
}

# Native-language title pieces: (adjectives, nouns); a title is "adj noun" or "noun adj" per language.
NATIVE_TITLE_WORDS: dict[str, tuple[list[str], list[str], str]] = {
    "es": (
        ["Último", "Oscuro", "Eterno", "Perdido", "Silencioso"],
        ["Verano", "Corazón", "Camino", "Sueño"],
        "{n} {a}",
    ),
    "fr": (
        ["Dernier", "Sombre", "Éternel", "Perdu", "Doux"],
        ["Été", "Cœur", "Chemin", "Rêve", "Secret"],
        "Le {n} {a}",
    ),
    "pt": (
        ["Último", "Escuro", "Eterno", "Perdido"],
        ["Verão", "Coração", "Caminho", "Sonho"],
        "O {n} {a}",
    ),
    "de": (
        ["Letzte", "Dunkle", "Ewige", "Stille"],
        ["Sommer", "Herz", "Straße", "Traum", "Geheimnis"],
        "Der {a} {n}",
    ),
    "it": (["Ultimo", "Oscuro", "Eterno", "Perduto"], ["Estate", "Cuore", "Cammino", "Sogno"], "L'{n} {a}"),
    "sv": (["Sista", "Mörka", "Tysta"], ["Sommaren", "Hjärtat", "Vägen", "Drömmen"], "Den {a} {n}"),
    "da": (["Sidste", "Mørke", "Stille"], ["Sommer", "Hjerte", "Vej", "Drøm"], "Den {a} {n}"),
    "nl": (["Laatste", "Donkere", "Stille"], ["Zomer", "Hart", "Weg", "Droom"], "De {a} {n}"),
    "pl": (["Ostatnie", "Ciemne", "Ciche"], ["Lato", "Serce", "Drogi", "Marzenie"], "{a} {n}"),
    "cs": (["Poslední", "Temné", "Tiché"], ["Léto", "Srdce", "Cesta", "Sny"], "{a} {n}"),
    "fi": (["Viimeinen", "Pimeä", "Hiljainen"], ["Kesä", "Sydän", "Tie", "Uni"], "{a} {n}"),
    "tr": (["Son", "Karanlık", "Sessiz"], ["Yaz", "Kalp", "Yol", "Rüya"], "{a} {n}"),
    "el": (["Τελευταίο", "Σκοτεινό", "Σιωπηλό"], ["Καλοκαίρι", "Όνειρο", "Ταξίδι"], "Το {a} {n}"),
    "ru": (
        ["Последнее", "Тёмное", "Тихое", "Вечное"],
        ["лето", "сердце", "путешествие", "небо"],
        "{a} {n}",
    ),
    "ja": (["静かな", "最後の", "遠い", "秘密の"], ["夏", "港", "約束", "記憶", "物語"], "{a}{n}"),
    "zh": (["沉默的", "最后的", "遥远的", "秘密的"], ["港湾", "夏天", "约定", "记忆", "江湖"], "{a}{n}"),
    "ko": (["조용한", "마지막", "먼", "비밀의"], ["항구", "여름", "약속", "기억"], "{a} {n}"),
    "hi": (["आखिरी", "खामोश", "अनजान"], ["सफ़र", "दिल", "सपना", "कहानी"], "{a} {n}"),
    "ar": (["الأخير", "الصامت", "البعيد"], ["الصيف", "القلب", "الطريق", "الحلم"], "{n} {a}"),
}

# Person name pools: origin -> (given names, family names, CJK order); entries are (latin, native).
PERSON_NAMES: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]], bool]] = {
    # bool: native order is family-name-first without a space (CJK)
    "en": (
        [
            (n, n)
            for n in [
                "James",
                "Mary",
                "Robert",
                "Jennifer",
                "Michael",
                "Linda",
                "David",
                "Sarah",
                "Chloë",
                "Zoë",
                "Renée",
                "Daniel",
                "Emily",
                "Thomas",
                "Grace",
                "Oliver",
            ]
        ],
        [
            (n, n)
            for n in [
                "Smith",
                "Johnson",
                "Brown",
                "O'Connor",
                "Miller",
                "Davis",
                "Wilson",
                "Taylor",
                "Anderson",
                "Clarke",
                "Walker",
                "Hughes",
                "Bennett",
                "Foster",
            ]
        ],
        False,
    ),
    "es": (
        [(n, n) for n in ["José", "María", "Nuño", "Inés", "Raúl", "Lucía", "Andrés", "Sofía"]],
        [(n, n) for n in ["García", "Fernández", "López", "Martínez", "Muñoz", "Peña", "Ibáñez"]],
        False,
    ),
    "fr": (
        [(n, n) for n in ["Élodie", "François", "Amélie", "Jérôme", "Cécile", "Benoît", "Hélène"]],
        [(n, n) for n in ["Dubois", "Lefèvre", "Moreau", "Girard", "Rousseau", "Bélanger"]],
        False,
    ),
    "de": (
        [(n, n) for n in ["Jürgen", "Käthe", "Günter", "Anja", "Björn", "Lena", "Matthias"]],
        [(n, n) for n in ["Müller", "Schröder", "Weiß", "Köhler", "Fischer", "Groß"]],
        False,
    ),
    "nordic": (
        [(n, n) for n in ["Søren", "Åsa", "Bjørn", "Sigrún", "Mads", "Ingrid"]],
        [(n, n) for n in ["Sørensen", "Åkesson", "Nyström", "Halvorsen", "Lindqvist"]],
        False,
    ),
    "pl": (
        [(n, n) for n in ["Łukasz", "Małgorzata", "Paweł", "Zofia"]],
        [(n, n) for n in ["Wójcik", "Kowalczyk", "Zieliński", "Dąbrowska"]],
        False,
    ),
    "ja": (
        [
            ("Haruki", "春樹"),
            ("Yui", "結衣"),
            ("Takeshi", "武"),
            ("Akiko", "明子"),
            ("Kenji", "健二"),
            ("Sakura", "さくら"),
        ],
        [
            ("Yamada", "山田"),
            ("Tanaka", "田中"),
            ("Suzuki", "鈴木"),
            ("Watanabe", "渡辺"),
            ("Sato", "佐藤"),
        ],
        True,
    ),
    "zh": (
        [("Wei", "伟"), ("Fang", "芳"), ("Jie", "杰"), ("Li", "丽"), ("Yong", "勇"), ("Xiu", "秀")],
        [("Wang", "王"), ("Zhang", "张"), ("Chen", "陈"), ("Liu", "刘"), ("Zhou", "周")],
        True,
    ),
    "ko": (
        [("Min-jun", "민준"), ("Seo-yeon", "서연"), ("Ji-ho", "지호"), ("Ha-eun", "하은")],
        [("Kim", "김"), ("Lee", "이"), ("Park", "박"), ("Choi", "최")],
        True,
    ),
    "ru": (
        [
            ("Ivan", "Иван"),
            ("Olga", "Ольга"),
            ("Dmitri", "Дмитрий"),
            ("Tatiana", "Татьяна"),
            ("Sergei", "Сергей"),
        ],
        [("Ivanov", "Иванов"), ("Petrova", "Петрова"), ("Smirnov", "Смирнов"), ("Volkova", "Волкова")],
        False,
    ),
}
PERSON_ORIGIN_WEIGHTS: dict[str, float] = {
    "en": 0.5,
    "es": 0.08,
    "fr": 0.08,
    "de": 0.06,
    "nordic": 0.03,
    "pl": 0.02,
    "ja": 0.07,
    "zh": 0.06,
    "ko": 0.04,
    "ru": 0.06,
}

CHARACTER_NAMES = [
    "Jack",
    "Anna",
    "Max",
    "Elena",
    "Sam",
    "Nora",
    "Leo",
    "Maya",
    "Viktor",
    "Isabel",
    "Kenji",
    "Amélie",
    "Tom",
    "Rosa",
    "Hugo",
    "Mei",
    "Dr. Hale",
    "The Stranger",
    "Captain Reyes",
    "Officer Kim",
    "Mother",
    "Father",
    "Narrator",
    "Herself",
    "Himself",
]

CREW_JOBS: list[tuple[str, str, str]] = [
    # (job, department, known_for_department)
    ("Screenplay", "Writing", "Writing"),
    ("Writer", "Writing", "Writing"),
    ("Producer", "Production", "Production"),
    ("Executive Producer", "Production", "Production"),
    ("Director of Photography", "Camera", "Camera"),
    ("Original Music Composer", "Sound", "Sound"),
    ("Editor", "Editing", "Editing"),
    ("Casting", "Production", "Production"),
]

COMPANY_WORDS = [
    "Silver",
    "Northern",
    "Blue Harbor",
    "Red Lantern",
    "Golden Gate",
    "Lumière",
    "Atlas",
    "Phoenix",
    "Cedar",
    "Orion",
    "Meridian",
    "Studio Ghibli-like",
    "Falcon",
    "Kestrel",
    "Aurora",
    "Iron Bridge",
    "Moonlight",
    "Sakura",
    "Wildflower",
    "Crescent",
]
COMPANY_SUFFIXES = ["Pictures", "Films", "Studios", "Entertainment", "Productions", "Film Company", "Media"]

TAGLINE_TEMPLATES = [
    "Some {noun}s never come home.",
    "The {adj} story of a {noun}.",
    "Every {noun} has a secret.",
    "{Adj}. {Adj}. Unforgettable.",
    "No {noun} is safe.",
    "One {noun}. One chance.",
]

OVERVIEW_TEMPLATES = [
    "A {adj} {noun} {event} {setting}.",
    "When a {adj} {noun} {event}, everything changes.",
    "{Setting}, a {noun} {event}.",
    "Haunted by the past, a {adj} {noun} {event} {setting}.",
    "The {noun} soon {event}, with {adj} consequences.",
    "Together with a {adj} {noun}, the {noun2} {event}.",
]

GENERIC_KEYWORDS = [
    "based on novel or book",
    "independent film",
    "woman director",
    "sequel",
    "remake",
    "duringcreditsstinger",
    "friendship",
    "small town",
    "new york city",
    "london, england",
]

# ------------------------------------------------------------------ appends (see `appends`)
# Certifications by country, from the mildest to the strictest of five rating levels (TMDb's systems).
CERTIFICATIONS: dict[str, tuple[str, str, str, str, str]] = {
    "US": ("G", "PG", "PG-13", "R", "NC-17"),
    "GB": ("U", "PG", "12A", "15", "18"),
    "DE": ("0", "6", "12", "16", "18"),
    "FR": ("U", "10", "12", "16", "18"),
    "ES": ("A", "7", "12", "16", "18"),
    "IT": ("T", "6+", "14+", "14+", "18+"),
    "JP": ("G", "G", "PG12", "R15+", "R18+"),
    "BR": ("L", "10", "12", "16", "18"),
    "MX": ("AA", "A", "B", "B15", "C"),
    "AU": ("G", "PG", "M", "MA15+", "R18+"),
    "CA": ("G", "PG", "14A", "18A", "R"),
    "NL": ("AL", "6", "12", "16", "18"),
    "KR": ("All", "12", "12", "15", "18"),
    "RU": ("0+", "6+", "12+", "16+", "18+"),
    "SE": ("Btl", "7", "11", "15", "15"),
    "DK": ("A", "7", "11", "15", "15"),
    "FI": ("S", "7", "12", "16", "18"),
    "PT": ("M/3", "M/6", "M/12", "M/16", "M/18"),
    "IN": ("U", "U", "UA", "A", "A"),
    "TR": ("Genel İzleyici Kitlesi", "7+", "13+", "15+", "18+"),
}
BR_DESCRIPTORS = ["Violência", "Drogas", "Linguagem Imprópria", "Conteúdo Sexual", "Nudez", "Drogas Lícitas"]
# Countries a popular film is released in beyond its production countries.
RELEASE_MARKETS = [
    "US", "GB", "DE", "FR", "ES", "IT", "JP", "BR", "MX", "AU", "NL", "KR", "RU", "SE", "CA", "PT", "AR", "TR",
    "PL", "DK", "FI", "IN", "HK", "TW", "CZ", "GR", "BE", "AT", "CH", "HU", "NO", "NZ", "SG", "IE",
]
FESTIVALS: dict[str, list[str]] = {
    "US": ["Sundance Film Festival", "Tribeca Film Festival", "SXSW", "Telluride Film Festival"],
    "FR": ["Cannes Film Festival", "Annecy International Animation Film Festival"],
    "DE": ["Berlin International Film Festival", "Filmfest München"],
    "IT": ["Venice Film Festival", "Rome Film Festival"],
    "CA": ["Toronto International Film Festival", "Fantasia International Film Festival"],
    "ES": ["San Sebastián International Film Festival", "Sitges Film Festival"],
    "GB": ["BFI London Film Festival", "Edinburgh International Film Festival"],
    "KR": ["Busan International Film Festival"],
    "JP": ["Tokyo International Film Festival"],
    "CZ": ["Karlovy Vary International Film Festival"],
    "NL": ["International Film Festival Rotterdam"],
    "CH": ["Locarno Film Festival"],
    "AU": ["Sydney Film Festival", "Melbourne International Film Festival"],
}
DIGITAL_NOTES = ["Netflix", "Amazon Prime Video", "Disney+", "Apple TV+", "iTunes", "Max", "VOD", "MUBI"]
RERELEASE_NOTES = ["Re-release", "4K restoration", "IMAX", "3D", "Anniversary re-release"]
VIDEO_TYPE_WEIGHTS: dict[str, float] = {
    "Trailer": 0.45, "Teaser": 0.15, "Clip": 0.15, "Featurette": 0.12, "Behind the Scenes": 0.08, "Bloopers": 0.05,
}
VIDEO_NAMES: dict[str, list[str]] = {
    "Trailer": ["Official Trailer", "Official Trailer 2", "Trailer", "Final Trailer", "International Trailer",
                "Main Trailer", "{title} | Official Trailer", "Official Trailer [Subtitled]"],
    "Teaser": ["Teaser", "Official Teaser", "Teaser Trailer", "{title} - Teaser"],
    "Clip": ["Clip", "'{title}' Clip", "Opening Scene", "Exclusive Clip"],
    "Featurette": ["Featurette", "Meet the Cast", "A Look Inside", "Making of {title}"],
    "Behind the Scenes": ["Behind the Scenes", "On Set with the Cast", "Filmmaker Commentary"],
    "Bloopers": ["Bloopers", "Gag Reel"],
}
ALT_TITLE_TYPES = ["working title", "short title", "informal title", "alternative spelling", "Dubbed", "3D version",
                   "festival title", "DVD title"]
# Locales a movie may be translated into, with the share of (middling) movies that have each.
TRANSLATION_LOCALES: dict[tuple[str, str], float] = {
    ("de", "DE"): 0.5, ("fr", "FR"): 0.45, ("es", "ES"): 0.35, ("es", "MX"): 0.25, ("pt", "BR"): 0.4,
    ("pt", "PT"): 0.15, ("it", "IT"): 0.3, ("ja", "JP"): 0.2, ("ru", "RU"): 0.3, ("zh", "CN"): 0.2,
    ("ko", "KR"): 0.15, ("nl", "NL"): 0.15, ("pl", "PL"): 0.15, ("sv", "SE"): 0.1, ("tr", "TR"): 0.1,
    ("da", "DK"): 0.08, ("fi", "FI"): 0.08, ("cs", "CZ"): 0.1, ("el", "GR"): 0.08, ("fr", "CA"): 0.08,
    ("zh", "TW"): 0.1, ("hi", "IN"): 0.03, ("ar", "SA"): 0.05,
}
# Small words mixed with `NATIVE_TITLE_WORDS` into the synthetic translated overviews and taglines.
TRANSLATION_WORDS: dict[str, list[str]] = {
    "de": ["und", "ein", "die", "mit", "nach", "findet", "sucht", "gegen", "seine", "wird"],
    "fr": ["et", "un", "la", "avec", "après", "trouve", "cherche", "contre", "son", "devient"],
    "es": ["y", "un", "la", "con", "tras", "encuentra", "busca", "contra", "su", "llega"],
    "pt": ["e", "um", "a", "com", "após", "encontra", "procura", "contra", "seu", "chega"],
    "it": ["e", "un", "la", "con", "dopo", "trova", "cerca", "contro", "suo", "diventa"],
    "sv": ["och", "en", "med", "efter", "hittar", "söker", "mot", "sin"],
    "da": ["og", "en", "med", "efter", "finder", "søger", "mod", "sin"],
    "nl": ["en", "een", "de", "met", "na", "vindt", "zoekt", "tegen", "zijn"],
    "pl": ["i", "z", "po", "znajduje", "szuka", "przeciw", "jego"],
    "cs": ["a", "s", "po", "najde", "hledá", "proti", "jeho"],
    "fi": ["ja", "kanssa", "jälkeen", "löytää", "etsii", "vastaan", "hänen"],
    "tr": ["ve", "bir", "ile", "sonra", "bulur", "arar", "karşı", "onun"],
    "el": ["και", "ένα", "με", "μετά", "βρίσκει", "ψάχνει", "ενάντια"],
    "ru": ["и", "с", "после", "находит", "ищет", "против", "его"],
    "ja": ["は", "を", "と", "が", "見つける", "探す", "そして"],
    "zh": ["和", "在", "的", "找到", "寻找", "之后", "对抗"],
    "ko": ["그리고", "와", "후에", "찾는다", "만난다", "맞서"],
    "hi": ["और", "के साथ", "बाद", "खोजता है", "ढूंढता है", "खिलाफ"],
    "ar": ["و", "مع", "بعد", "يجد", "يبحث", "ضد"],
}
