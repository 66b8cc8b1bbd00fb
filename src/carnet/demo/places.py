"""Places (facts): real communes with their INSEE (COG) codes and postal codes, countries of
birth with their INSEE country codes, and street names."""

from __future__ import annotations

from typing import Final, NamedTuple


class Commune(NamedTuple):
    insee: str  # COG code; arrondissement codes for Paris, Marseille and Lyon
    name: str
    postal_code: str
    department: str


class Country(NamedTuple):
    insee: str  # "99" + INSEE country code, as the NIR carries it
    name: str
    iso: str
    cities: tuple[str, ...]


# Département code → (name, weight of residents in the demo population). The pilot départements
# of the national roll-out (31, 44, 80) are over-represented on purpose.
DEPARTMENTS: Final[dict[str, tuple[str, int]]] = {
    "31": ("Haute-Garonne", 12),
    "44": ("Loire-Atlantique", 12),
    "80": ("Somme", 10),
    "75": ("Paris", 9),
    "13": ("Bouches-du-Rhône", 7),
    "69": ("Rhône", 7),
    "33": ("Gironde", 6),
    "59": ("Nord", 7),
    "67": ("Bas-Rhin", 4),
    "2A": ("Corse-du-Sud", 1),
    "2B": ("Haute-Corse", 1),
    "971": ("Guadeloupe", 2),
    "972": ("Martinique", 1),
    "974": ("La Réunion", 3),
    "35": ("Ille-et-Vilaine", 2),
    "34": ("Hérault", 2),
    "06": ("Alpes-Maritimes", 2),
    "38": ("Isère", 2),
}

COMMUNES: Final = (
    Commune("31555", "Toulouse", "31000", "31"),
    Commune("31555", "Toulouse", "31400", "31"),
    Commune("31555", "Toulouse", "31500", "31"),
    Commune("31069", "Blagnac", "31700", "31"),
    Commune("31149", "Colomiers", "31770", "31"),
    Commune("31557", "Tournefeuille", "31170", "31"),
    Commune("31395", "Muret", "31600", "31"),
    Commune("31483", "Saint-Gaudens", "31800", "31"),
    Commune("44109", "Nantes", "44000", "44"),
    Commune("44109", "Nantes", "44300", "44"),
    Commune("44184", "Saint-Nazaire", "44600", "44"),
    Commune("44143", "Rezé", "44400", "44"),
    Commune("44162", "Saint-Herblain", "44800", "44"),
    Commune("44114", "Orvault", "44700", "44"),
    Commune("80021", "Amiens", "80000", "80"),
    Commune("80021", "Amiens", "80090", "80"),
    Commune("80001", "Abbeville", "80100", "80"),
    Commune("80016", "Albert", "80300", "80"),
    Commune("80620", "Péronne", "80200", "80"),
    Commune("75111", "Paris", "75011", "75"),
    Commune("75114", "Paris", "75014", "75"),
    Commune("75115", "Paris", "75015", "75"),
    Commune("75118", "Paris", "75018", "75"),
    Commune("75120", "Paris", "75020", "75"),
    Commune("13205", "Marseille", "13005", "13"),
    Commune("13208", "Marseille", "13008", "13"),
    Commune("13213", "Marseille", "13013", "13"),
    Commune("13001", "Aix-en-Provence", "13100", "13"),
    Commune("13004", "Arles", "13200", "13"),
    Commune("13056", "Martigues", "13500", "13"),
    Commune("69383", "Lyon", "69003", "69"),
    Commune("69387", "Lyon", "69007", "69"),
    Commune("69266", "Villeurbanne", "69100", "69"),
    Commune("69259", "Vénissieux", "69200", "69"),
    Commune("69264", "Villefranche-sur-Saône", "69400", "69"),
    Commune("33063", "Bordeaux", "33000", "33"),
    Commune("33063", "Bordeaux", "33800", "33"),
    Commune("33281", "Mérignac", "33700", "33"),
    Commune("33318", "Pessac", "33600", "33"),
    Commune("33243", "Libourne", "33500", "33"),
    Commune("33009", "Arcachon", "33120", "33"),
    Commune("59350", "Lille", "59000", "59"),
    Commune("59512", "Roubaix", "59100", "59"),
    Commune("59599", "Tourcoing", "59200", "59"),
    Commune("59183", "Dunkerque", "59140", "59"),
    Commune("59606", "Valenciennes", "59300", "59"),
    Commune("67482", "Strasbourg", "67000", "67"),
    Commune("67180", "Haguenau", "67500", "67"),
    Commune("67462", "Sélestat", "67600", "67"),
    Commune("2A004", "Ajaccio", "20000", "2A"),
    Commune("2A247", "Porto-Vecchio", "20137", "2A"),
    Commune("2B033", "Bastia", "20200", "2B"),
    Commune("2B096", "Corte", "20250", "2B"),
    Commune("2B050", "Calvi", "20260", "2B"),
    Commune("97120", "Pointe-à-Pitre", "97110", "971"),
    Commune("97101", "Les Abymes", "97139", "971"),
    Commune("97105", "Basse-Terre", "97100", "971"),
    Commune("97103", "Baie-Mahault", "97122", "971"),
    Commune("97209", "Fort-de-France", "97200", "972"),
    Commune("97411", "Saint-Denis", "97400", "974"),
    Commune("97416", "Saint-Pierre", "97410", "974"),
    Commune("97415", "Saint-Paul", "97460", "974"),
    Commune("97422", "Le Tampon", "97430", "974"),
    Commune("35238", "Rennes", "35000", "35"),
    Commune("34172", "Montpellier", "34000", "34"),
    Commune("06088", "Nice", "06000", "06"),
    Commune("38185", "Grenoble", "38000", "38"),
)

COUNTRIES: Final = (
    Country("99350", "Maroc", "MA", ("Casablanca", "Rabat", "Fès", "Marrakech")),
    Country("99352", "Algérie", "DZ", ("Alger", "Oran", "Constantine")),
    Country("99351", "Tunisie", "TN", ("Tunis", "Sfax", "Sousse")),
    Country("99139", "Portugal", "PT", ("Lisbonne", "Porto", "Braga")),
    Country("99127", "Italie", "IT", ("Rome", "Milan", "Naples", "Turin")),
    Country("99134", "Espagne", "ES", ("Madrid", "Barcelone", "Valence", "Séville")),
    Country("99131", "Belgique", "BE", ("Bruxelles", "Liège", "Charleroi")),
    Country("99109", "Allemagne", "DE", ("Berlin", "Munich", "Francfort")),
    Country("99341", "Sénégal", "SN", ("Dakar", "Thiès")),
    Country("99326", "Côte d'Ivoire", "CI", ("Abidjan", "Bouaké")),
    Country("99243", "Viêt Nam", "VN", ("Hanoï", "Hô Chi Minh-Ville")),
    Country("99208", "Turquie", "TR", ("Istanbul", "Ankara")),
    Country("99132", "Royaume-Uni", "GB", ("Londres", "Manchester")),
)

# Street names of patients' homes.
STREETS: Final = (
    "rue de la République", "rue Victor Hugo", "avenue Jean Jaurès", "rue Pasteur",
    "rue des Lilas", "place de la Mairie", "chemin des Vignes", "rue du Moulin",
    "boulevard Gambetta", "rue Nationale", "allée des Tilleuls", "rue de l'Église",
    "avenue du Général de Gaulle", "rue des Écoles", "impasse des Acacias", "rue Émile Zola",
    "rue des Prés", "avenue de la Libération", "rue du Château", "rue des Jardins",
    "quai des Chartrons", "rue de la Fontaine", "rue du Stade", "chemin de la Croix",
)  # fmt: skip

# Street names of the directory's organisations: none contains a person's name, since the
# directory is stored in clear and a patient could bear that name.
ORGANIZATION_STREETS: Final = (
    "rue de la Paix", "avenue de la Gare", "place du Marché", "boulevard de la Liberté",
    "rue des Cèdres", "allée des Platanes", "rue du Port", "avenue des Sports",
    "rue de la Poste", "rue des Halles", "boulevard du Centre", "rue des Remparts",
)  # fmt: skip


def communes_of(department: str) -> tuple[Commune, ...]:
    """The communes of ``department`` in the table."""
    return tuple(commune for commune in COMMUNES if commune.department == department)


def department_name(code: str) -> str:
    """The name of département ``code``."""
    return DEPARTMENTS[code][0]
