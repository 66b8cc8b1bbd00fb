"""Name pools (facts: common names in France), combined at random; no real person is described.

Patients and professionals draw from disjoint pools, so that no patient's name can ever appear
in the directory (whose resources are stored and indexed in clear).
"""

from __future__ import annotations

from typing import Final

PATIENT_SURNAMES: Final = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Lefèvre", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier",
    "François", "Legrand", "Gauthier", "Perrin", "Robin", "Clément", "Morin", "Nicolas", "Henry",
    "Roussel", "Mathieu", "Gautier", "Masson", "Marchand", "Duval", "Dumont", "Lemaire", "Noël",
    "Dufour", "Meunier", "Brun", "Blanchard", "Giraud", "Joly", "Rivière", "Lucas", "Brunet",
    "Gaillard", "Barbier", "Arnaud", "Gérard", "Roche", "Renard", "Roy", "Leroux", "Colin",
    "Caron", "Picard", "Roger", "Aubert", "Lemoine", "Renaud", "Dumas", "Lacroix", "Olivier",
    "Philippe", "Bourgeois", "Rolland", "Leclercq", "Guillaume", "Lecomte", "Dupuy", "Guillot",
    "Hubert", "Berger", "Carpentier", "Dupuis", "Moulin", "Deschamps", "Huet", "Vasseur",
    "Boucher", "Fleury", "Royer", "Jacquet", "Poirier", "Aubry", "Guyot", "Carré", "Charles",
    "Renault", "Charpentier", "Ménard", "Maillard", "Baron", "Bertin", "Bailly", "Hervé",
    "Collet", "Léger", "Bouvier", "Julien", "Prévost", "Millet", "Perrot", "Cousin", "Germain",
    "Breton", "Besson", "Langlois", "Rémy", "Pelletier", "Lévêque", "Perrier", "Leblanc",
    "Barré", "Lebrun", "Marchal", "Mallet", "Hamon", "Boulanger", "Monnier", "Michaud",
    "Guichard", "Gillet", "Poulain", "Tessier", "Collin", "Chauvin", "Bouchet", "Lemaître",
    "Bénard", "Maréchal", "Humbert", "Reynaud", "Antoine", "Perret", "Barthélemy", "Cordier",
    "Pichon", "Lejeune", "Gilbert", "Lamy", "Delaunay", "Pasquier", "Carlier", "Laporte",
)  # fmt: skip

# Names more frequent in some départements, drawn there part of the time.
REGIONAL_SURNAMES: Final[dict[str, tuple[str, ...]]] = {
    "974": ("Payet", "Hoarau", "Grondin", "Técher", "Hoareau", "Lebon", "Nativel", "Maillot"),
    "971": ("Lubin", "Bellance", "Nestor", "Théodose", "Alexis", "Larcher", "Dorville"),
    "972": ("Lubin", "Bellance", "Nestor", "Théodose", "Alexis", "Larcher", "Dorville"),
    "2A": ("Santoni", "Leca", "Casanova", "Rossi", "Mattei", "Pietri", "Luciani", "Filippi"),
    "2B": ("Santoni", "Casanova", "Albertini", "Giacomini", "Mattei", "Acquaviva", "Luciani"),
    "67": ("Muller", "Schmitt", "Meyer", "Klein", "Weber", "Schneider", "Fischer", "Wagner"),
    "44": ("Le Gall", "Le Goff", "Le Roux", "Guillou", "Le Bihan", "Tanguy", "Morvan", "Jaouen"),
    "59": ("Lefebvre", "Delattre", "Deprez", "Delcroix", "Leclercq", "Vasseur", "Lemaire"),
    "80": ("Delattre", "Deprez", "Caron", "Leroy", "Lefèvre", "Dufour", "Lemaire", "Vasseur"),
    "31": ("Fabre", "Vidal", "Marty", "Puech", "Roques", "Cazals", "Fauré", "Bonnafous"),
    "13": ("Garcia", "Martinez", "Lopez", "Fernandez", "Sanchez", "Perez", "Rey", "Giraud"),
}

# Given names by sex and birth period (upper bound of the birth year, exclusive).
GIVEN_NAMES: Final[tuple[tuple[int, tuple[str, ...], tuple[str, ...]], ...]] = (
    (
        1950,
        ("Jean", "Pierre", "André", "Michel", "Jacques", "René", "Roger", "Marcel", "Louis",
         "Georges", "Robert", "Henri", "Claude", "Bernard", "Raymond", "Maurice", "Lucien"),
        ("Marie", "Jeanne", "Françoise", "Monique", "Jacqueline", "Denise", "Simone", "Colette",
         "Odette", "Yvette", "Paulette", "Suzanne", "Madeleine", "Germaine", "Nicole", "Josette"),
    ),
    (
        1970,
        ("Philippe", "Alain", "Patrick", "Christian", "Daniel", "Éric", "Thierry", "Pascal",
         "Didier", "Gilles", "Jean-Pierre", "Bruno", "Serge", "Jean-Luc", "Francis", "Joël"),
        ("Martine", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Christine", "Brigitte",
         "Chantal", "Patricia", "Véronique", "Dominique", "Annie", "Évelyne", "Pascale",
         "Danielle", "Marie-Christine"),
    ),
    (
        1990,
        ("Nicolas", "Sébastien", "Julien", "David", "Christophe", "Stéphane", "Frédéric",
         "Jérôme", "Olivier", "Mickaël", "Guillaume", "Cédric", "Anthony", "Romain", "Vincent",
         "Ludovic", "Arnaud"),
        ("Stéphanie", "Céline", "Aurélie", "Sandrine", "Virginie", "Valérie", "Émilie", "Julie",
         "Audrey", "Laetitia", "Karine", "Caroline", "Élodie", "Mélanie", "Delphine", "Marion"),
    ),
    (
        2010,
        ("Thomas", "Lucas", "Kevin", "Maxime", "Alexandre", "Quentin", "Antoine", "Hugo", "Théo",
         "Clément", "Florian", "Mathieu", "Benjamin", "Valentin", "Baptiste", "Adrien", "Enzo"),
        ("Camille", "Manon", "Léa", "Marine", "Chloé", "Laura", "Sarah", "Pauline", "Océane",
         "Mathilde", "Anaïs", "Justine", "Clara", "Inès", "Lucie", "Emma", "Juliette"),
    ),
    (
        9999,
        ("Gabriel", "Raphaël", "Léo", "Louis", "Arthur", "Jules", "Adam", "Maël", "Noah",
         "Nathan", "Sacha", "Gabin", "Liam", "Timéo", "Ethan", "Aaron", "Nolan"),
        ("Jade", "Louise", "Alice", "Lina", "Rose", "Ambre", "Anna", "Mia", "Léna", "Julia",
         "Agathe", "Zoé", "Romane", "Eva", "Mila", "Léonie", "Margot"),
    ),
)  # fmt: skip

# People born abroad: (surnames, male given names, female given names) by ISO country code.
_MAGHREB: Final = (
    ("Benali", "Haddad", "Mansouri", "Bouaziz", "Cherif", "Belkacem", "Saïdi", "Amrani"),
    ("Karim", "Mohamed", "Rachid", "Youssef", "Amine", "Mehdi", "Said"),
    ("Nadia", "Fatima", "Samira", "Leïla", "Yasmina", "Malika", "Souad"),
)
_WEST_AFRICA: Final = (
    ("Diallo", "Diop", "Ndiaye", "Traoré", "Koné", "Coulibaly", "Sow", "Fofana"),
    ("Mamadou", "Moussa", "Ousmane", "Ibrahima", "Abdoulaye", "Seydou"),
    ("Aminata", "Fatou", "Awa", "Mariama", "Kadiatou", "Aïssatou"),
)
ORIGIN_NAMES: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]]] = {
    "MA": _MAGHREB,
    "DZ": _MAGHREB,
    "TN": _MAGHREB,
    "SN": _WEST_AFRICA,
    "CI": _WEST_AFRICA,
    "PT": (
        ("Da Silva", "Pereira", "Ferreira", "Rodrigues", "Gonçalves", "Santos", "Oliveira"),
        ("João", "Manuel", "António", "José", "Carlos", "Fernando"),
        ("Maria", "Ana", "Fátima", "Conceição", "Rosa", "Isabel"),
    ),
    "ES": (
        ("González", "Fernández", "Jiménez", "Ruiz", "Moreno", "Romero", "Navarro"),
        ("Antonio", "Francisco", "Manuel", "Javier", "Miguel", "Alejandro"),
        ("Carmen", "Dolores", "Pilar", "Lucía", "Teresa", "Cristina"),
    ),
    "IT": (
        ("Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Greco"),
        ("Giuseppe", "Giovanni", "Francesco", "Luigi", "Salvatore", "Marco"),
        ("Giulia", "Francesca", "Chiara", "Giovanna", "Paola", "Federica"),
    ),
    "VN": (
        ("Nguyen", "Tran", "Pham", "Hoang", "Phan", "Dang"),
        ("Minh", "Hung", "Tuan", "Duc", "Quang"),
        ("Linh", "Hoa", "Thu", "Huong", "Ngoc"),
    ),
    "TR": (
        ("Yilmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yildiz", "Aydin"),
        ("Mehmet", "Mustafa", "Ahmet", "Emre", "Hasan", "Murat"),
        ("Ayşe", "Fatma", "Elif", "Zeynep", "Emine", "Hatice"),
    ),
    "GB": (
        ("Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Walker"),
        ("James", "John", "William", "George", "Oliver", "Harry"),
        ("Sarah", "Emily", "Olivia", "Charlotte", "Sophie", "Hannah"),
    ),
    "DE": (
        ("Schmidt", "Becker", "Hoffmann", "Schulz", "Koch", "Richter", "Wolf"),
        ("Klaus", "Jürgen", "Stefan", "Andreas", "Wolfgang", "Uwe"),
        ("Petra", "Ute", "Sabrina", "Katrin", "Andrea", "Monika"),
    ),
}

# Professionals: pools disjoint from every patient pool above (checked by the tests).
PROFESSIONAL_SURNAMES: Final = (
    "Barthès", "Castagné", "Delorme", "Escoffier", "Ferrand", "Gasnier", "Hébrard", "Jourdan",
    "Lacombe", "Lagarde", "Pujol", "Quéré", "Rigal", "Tardieu", "Vaillant", "Villeneuve",
    "Astruc", "Combes", "Dalmas", "Estève", "Granier", "Issartel", "Janin", "Kervella", "Labbé",
    "Mahé", "Nédélec", "Peyrot", "Raynal", "Soulier", "Teyssier", "Vergnes", "Zimmermann",
    "Bousquet", "Sabatier", "Chabert", "Devaux", "Forestier", "Guillemin", "Jacquemin",
    "Lamarque", "Magnin", "Pradier", "Rouvière", "Sauvage", "Thibault", "Verdier", "Bastide",
)  # fmt: skip
PROFESSIONAL_GIVEN_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "male": (
        "Yves", "Franck", "Emmanuel", "Étienne", "Fabien", "Grégoire", "Hugues", "Jérémie",
        "Marc", "Rodolphe", "Samuel", "Tristan", "Xavier", "Damien", "Gaël", "Loïc", "Régis",
        "Sylvain", "Bastien", "Aurélien",
    ),
    "female": (
        "Agnès", "Béatrice", "Claire", "Diane", "Estelle", "Florence", "Gaëlle", "Hélène",
        "Ingrid", "Laure", "Maud", "Nadège", "Noémie", "Ophélie", "Perrine", "Solène", "Sabine",
        "Hortense", "Bérénice", "Elsa",
    ),
}  # fmt: skip


def given_names_for(sex: str, birth_year: int) -> tuple[str, ...]:
    """The pool of given names for a person of ``sex`` born in ``birth_year``."""
    for upper_year, male, female in GIVEN_NAMES:
        if birth_year < upper_year:
            return male if sex == "male" else female
    raise AssertionError("unreachable: the last period is open-ended")


def all_patient_name_tokens() -> frozenset[str]:
    """Every word a patient's name can contain (case-folded), for the privacy checks."""
    names: list[str] = list(PATIENT_SURNAMES)
    for pool in REGIONAL_SURNAMES.values():
        names.extend(pool)
    for _, male, female in GIVEN_NAMES:
        names.extend(male + female)
    for surnames, male, female in ORIGIN_NAMES.values():
        names.extend(surnames + male + female)
    return frozenset(token.casefold() for name in names for token in name.replace("-", " ").split())
