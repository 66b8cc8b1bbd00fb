"""Clinical facts the demo draws from: conditions (SNOMED CT + ICD-10, French labels), allergies,
medicines (ATC, French dosage text). Pure data."""

from __future__ import annotations

from typing import Final, NamedTuple

from carnet.demo.directory import (
    CARDIOLOGY,
    ENDOCRINOLOGY,
    PNEUMOLOGY,
    PSYCHIATRY,
    RHEUMATOLOGY,
)


class ConditionSpec(NamedTuple):
    key: str
    snomed: str
    label: str  # French
    icd10: str
    course: str  # "chronic" | "acute"
    # (age from, probability of having it by then): a step function of age.
    prevalence: tuple[tuple[int, float], ...]
    # Multipliers of the probability for (women, men).
    sex_ratio: tuple[float, float]
    specialty: str | None  # TRE_R38 specialty that follows it up
    medicines: tuple[str, ...]  # keys of MEDICINES, first = first-line
    labs: tuple[str, ...]  # keys of observations.LABS

    @property
    def chronic(self) -> bool:
        """Whether the condition lasts (as opposed to an acute episode that resolves)."""
        return self.course == "chronic"


CONDITIONS: Final = (
    ConditionSpec("hypertension", "38341003", "Hypertension artérielle", "I10", "chronic",
                  ((30, 0.05), (45, 0.15), (55, 0.3), (65, 0.45), (75, 0.6)), (1.0, 1.0),
                  CARDIOLOGY, ("amlodipine", "ramipril", "indapamide"), ("creatinine",)),
    ConditionSpec("diabetes2", "44054006", "Diabète de type 2", "E11.9", "chronic",
                  ((35, 0.03), (50, 0.08), (65, 0.14), (75, 0.16)), (0.8, 1.2),
                  ENDOCRINOLOGY, ("metformin", "gliclazide"), ("hba1c", "glucose", "creatinine")),
    ConditionSpec("hypercholesterolaemia", "13644009", "Hypercholestérolémie", "E78.0", "chronic",
                  ((35, 0.06), (50, 0.15), (65, 0.25)), (1.0, 1.0),
                  None, ("atorvastatin", "rosuvastatin"), ("cholesterol", "ldl", "hdl")),
    ConditionSpec("asthma", "195967001", "Asthme", "J45.9", "chronic",
                  ((3, 0.07), (18, 0.06)), (1.0, 1.0),
                  PNEUMOLOGY, ("salbutamol", "budesonide_formoterol"), ()),
    ConditionSpec("hypothyroidism", "40930008", "Hypothyroïdie", "E03.9", "chronic",
                  ((20, 0.02), (40, 0.05), (60, 0.08)), (1.6, 0.3),
                  ENDOCRINOLOGY, ("levothyroxine",), ("tsh",)),
    ConditionSpec("depression", "35489007", "Épisode dépressif", "F32.9", "chronic",
                  ((15, 0.04), (25, 0.06), (65, 0.05)), (1.4, 0.6),
                  PSYCHIATRY, ("sertraline", "escitalopram"), ()),
    ConditionSpec("anxiety", "21897009", "Trouble anxieux généralisé", "F41.1", "chronic",
                  ((15, 0.03), (30, 0.05)), (1.5, 0.6),
                  None, ("escitalopram",), ()),
    ConditionSpec("low_back_pain", "279039007", "Lombalgie commune", "M54.5", "acute",
                  ((18, 0.08), (40, 0.12)), (1.0, 1.0),
                  None, ("paracetamol", "ibuprofen"), ()),
    ConditionSpec("allergic_rhinitis", "21719001", "Rhinite allergique saisonnière", "J30.1",
                  "chronic", ((5, 0.08), (15, 0.12), (50, 0.08)), (1.0, 1.0),
                  None, ("cetirizine", "desloratadine"), ()),
    ConditionSpec("knee_osteoarthritis", "239873007", "Gonarthrose", "M17.9", "chronic",
                  ((50, 0.06), (65, 0.15), (75, 0.22)), (1.3, 0.8),
                  RHEUMATOLOGY, ("paracetamol",), ()),
    ConditionSpec("atrial_fibrillation", "49436004", "Fibrillation atriale", "I48.9", "chronic",
                  ((60, 0.03), (70, 0.07), (80, 0.12)), (0.8, 1.2),
                  CARDIOLOGY, ("apixaban", "bisoprolol"), ("creatinine",)),
    ConditionSpec("copd", "13645005", "Bronchopneumopathie chronique obstructive", "J44.9",
                  "chronic", ((45, 0.03), (65, 0.07)), (0.8, 1.2),
                  PNEUMOLOGY, ("tiotropium", "salbutamol"), ()),
    ConditionSpec("gerd", "235595009", "Reflux gastro-œsophagien", "K21.9", "chronic",
                  ((20, 0.05), (50, 0.1)), (1.0, 1.0),
                  None, ("omeprazole", "esomeprazole"), ()),
    ConditionSpec("migraine", "37796009", "Migraine", "G43.9", "chronic",
                  ((12, 0.05), (20, 0.1), (50, 0.06)), (1.6, 0.5),
                  None, ("sumatriptan",), ()),
    ConditionSpec("osteoporosis", "64859006", "Ostéoporose", "M81.9", "chronic",
                  ((55, 0.06), (70, 0.15)), (1.8, 0.2),
                  RHEUMATOLOGY, ("alendronate", "colecalciferol"), ()),
    ConditionSpec("heart_failure", "84114007", "Insuffisance cardiaque", "I50.9", "chronic",
                  ((65, 0.03), (80, 0.08)), (1.0, 1.0),
                  CARDIOLOGY, ("furosemide", "bisoprolol"), ("creatinine",)),
    ConditionSpec("obesity", "414916001", "Obésité", "E66.9", "chronic",
                  ((10, 0.04), (18, 0.12), (40, 0.17)), (1.0, 1.0),
                  None, (), ("glucose",)),
    ConditionSpec("atopic_dermatitis", "24079001", "Dermatite atopique", "L20.9", "chronic",
                  ((0, 0.12), (6, 0.08), (15, 0.03), (25, 0.0)), (1.0, 1.0),
                  None, ("hydrocortisone",), ()),
    ConditionSpec("otitis", "65363002", "Otite moyenne aiguë", "H66.9", "acute",
                  ((1, 0.3), (6, 0.1), (12, 0.0)), (1.0, 1.0),
                  None, ("amoxicillin_child", "paracetamol_child"), ()),
    ConditionSpec("bronchiolitis", "4120002", "Bronchiolite aiguë", "J21.9", "acute",
                  ((0, 0.25), (4, 0.0)), (1.0, 1.0),
                  None, ("paracetamol_child",), ()),
)  # fmt: skip


class AllergySpec(NamedTuple):
    snomed: str
    label: str
    category: str  # food | medication | environment
    criticality: str  # low | high
    reaction: tuple[str, str]  # SNOMED manifestation, French label
    min_age: int
    probability: float


ALLERGIES: Final = (
    AllergySpec("764146007", "Pénicillines", "medication", "high",
                ("126485001", "Urticaire"), 1, 0.05),
    AllergySpec("372687004", "Amoxicilline", "medication", "low",
                ("271807003", "Éruption cutanée"), 1, 0.02),
    AllergySpec("256277009", "Pollens de graminées", "environment", "low",
                ("61582004", "Rhinite allergique"), 4, 0.10),
    AllergySpec("260147004", "Acariens", "environment", "low",
                ("61582004", "Rhinite allergique"), 3, 0.06),
    AllergySpec("762952008", "Arachide", "food", "high",
                ("39579001", "Anaphylaxie"), 1, 0.02),
    AllergySpec("111088007", "Latex", "environment", "low",
                ("40275004", "Dermatite de contact"), 10, 0.01),
    AllergySpec("288328004", "Venin d'abeille", "environment", "high",
                ("41291007", "Œdème de Quincke"), 5, 0.01),
    AllergySpec("260152009", "Poils de chat", "environment", "low",
                ("61582004", "Rhinite allergique"), 3, 0.04),
    AllergySpec("102263004", "Œuf", "food", "low",
                ("43116000", "Eczéma"), 1, 0.02),
)  # fmt: skip


class MedicineSpec(NamedTuple):
    atc: str
    atc_label: str  # international non-proprietary name (WHO ATC)
    text: str  # French: substance, strength and form
    dosage: str  # French instructions
    dose: tuple[float, str] | None  # quantity per intake and its unit
    timing: tuple[int, float, str]  # frequency, period, period unit (UCUM: d, wk, mo)
    intake: str  # "regular" | "as needed"

    @property
    def as_needed(self) -> bool:
        """Whether the medicine is taken only when needed."""
        return self.intake == "as needed"


MEDICINES: Final[dict[str, MedicineSpec]] = {
    "amlodipine": MedicineSpec("C08CA01", "amlodipine", "Amlodipine 5 mg, comprimé",
                               "1 comprimé le matin", (1, "comprimé"), (1, 1, "d"), "regular"),
    "ramipril": MedicineSpec("C09AA05", "ramipril", "Ramipril 5 mg, comprimé",
                             "1 comprimé le matin", (1, "comprimé"), (1, 1, "d"), "regular"),
    "indapamide": MedicineSpec("C03BA11", "indapamide",
                               "Indapamide 1,5 mg, comprimé à libération prolongée",
                               "1 comprimé le matin", (1, "comprimé"), (1, 1, "d"), "regular"),
    "metformin": MedicineSpec("A10BA02", "metformin", "Metformine 1000 mg, comprimé",
                              "1 comprimé matin et soir, au cours des repas",
                              (1, "comprimé"), (2, 1, "d"), "regular"),
    "gliclazide": MedicineSpec("A10BB09", "gliclazide",
                               "Gliclazide 30 mg, comprimé à libération modifiée",
                               "2 comprimés le matin, au cours du repas",
                               (2, "comprimé"), (1, 1, "d"), "regular"),
    "atorvastatin": MedicineSpec("C10AA05", "atorvastatin", "Atorvastatine 20 mg, comprimé",
                                 "1 comprimé le soir", (1, "comprimé"), (1, 1, "d"), "regular"),
    "rosuvastatin": MedicineSpec("C10AA07", "rosuvastatin", "Rosuvastatine 10 mg, comprimé",
                                 "1 comprimé le soir", (1, "comprimé"), (1, 1, "d"), "regular"),
    "salbutamol": MedicineSpec("R03AC02", "salbutamol",
                               "Salbutamol 100 µg/dose, suspension pour inhalation",
                               "1 à 2 bouffées en cas de gêne respiratoire, "
                               "sans dépasser 8 bouffées par jour",
                               (2, "bouffée"), (4, 1, "d"), "as needed"),
    "budesonide_formoterol": MedicineSpec("R03AK07", "formoterol and budesonide",
                                          "Budésonide/formotérol 200/6 µg, poudre pour inhalation",
                                          "1 inhalation matin et soir",
                                          (1, "inhalation"), (2, 1, "d"), "regular"),
    "levothyroxine": MedicineSpec("H03AA01", "levothyroxine sodium",
                                  "Lévothyroxine 75 µg, comprimé",
                                  "1 comprimé le matin à jeun", (1, "comprimé"), (1, 1, "d"),
                                  "regular"),
    "sertraline": MedicineSpec("N06AB06", "sertraline", "Sertraline 50 mg, gélule",
                               "1 gélule le matin", (1, "gélule"), (1, 1, "d"), "regular"),
    "escitalopram": MedicineSpec("N06AB10", "escitalopram", "Escitalopram 10 mg, comprimé",
                                 "1 comprimé le matin", (1, "comprimé"), (1, 1, "d"), "regular"),
    "paracetamol": MedicineSpec("N02BE01", "paracetamol", "Paracétamol 1 g, comprimé",
                                "1 comprimé jusqu'à 3 fois par jour en cas de douleur, "
                                "en respectant 6 heures entre deux prises",
                                (1, "comprimé"), (3, 1, "d"), "as needed"),
    "paracetamol_child": MedicineSpec("N02BE01", "paracetamol",
                                      "Paracétamol 2,4 %, suspension buvable",
                                      "1 dose-poids toutes les 6 heures en cas de fièvre",
                                      (1, "dose-poids"), (4, 1, "d"), "as needed"),
    "ibuprofen": MedicineSpec("M01AE01", "ibuprofen", "Ibuprofène 400 mg, comprimé",
                              "1 comprimé jusqu'à 3 fois par jour pendant 5 jours, "
                              "au cours des repas", (1, "comprimé"), (3, 1, "d"), "regular"),
    "omeprazole": MedicineSpec("A02BC01", "omeprazole",
                               "Oméprazole 20 mg, gélule gastro-résistante",
                               "1 gélule le matin à jeun", (1, "gélule"), (1, 1, "d"), "regular"),
    "esomeprazole": MedicineSpec("A02BC05", "esomeprazole",
                                 "Ésoméprazole 20 mg, comprimé gastro-résistant",
                                 "1 comprimé le matin à jeun", (1, "comprimé"), (1, 1, "d"),
                                 "regular"),
    "apixaban": MedicineSpec("B01AF02", "apixaban", "Apixaban 5 mg, comprimé",
                             "1 comprimé matin et soir", (1, "comprimé"), (2, 1, "d"), "regular"),
    "bisoprolol": MedicineSpec("C07AB07", "bisoprolol", "Bisoprolol 2,5 mg, comprimé",
                               "1 comprimé le matin", (1, "comprimé"), (1, 1, "d"), "regular"),
    "tiotropium": MedicineSpec("R03BB04", "tiotropium bromide",
                               "Tiotropium 2,5 µg/dose, solution pour inhalation",
                               "2 bouffées une fois par jour", (2, "bouffée"), (1, 1, "d"),
                               "regular"),
    "sumatriptan": MedicineSpec("N02CC01", "sumatriptan", "Sumatriptan 50 mg, comprimé",
                                "1 comprimé dès le début de la crise, "
                                "à renouveler après 2 heures si besoin",
                                (1, "comprimé"), (2, 1, "d"), "as needed"),
    "cetirizine": MedicineSpec("R06AE07", "cetirizine", "Cétirizine 10 mg, comprimé",
                               "1 comprimé le soir pendant la saison pollinique",
                               (1, "comprimé"), (1, 1, "d"), "regular"),
    "desloratadine": MedicineSpec("R06AX27", "desloratadine", "Desloratadine 5 mg, comprimé",
                                  "1 comprimé par jour", (1, "comprimé"), (1, 1, "d"), "regular"),
    "alendronate": MedicineSpec("M05BA04", "alendronic acid",
                                "Acide alendronique 70 mg, comprimé",
                                "1 comprimé une fois par semaine, le matin à jeun",
                                (1, "comprimé"), (1, 1, "wk"), "regular"),
    "colecalciferol": MedicineSpec("A11CC05", "colecalciferol",
                                   "Cholécalciférol 100 000 UI, solution buvable en ampoule",
                                   "1 ampoule tous les 3 mois", (1, "ampoule"), (1, 3, "mo"),
                                   "regular"),
    "furosemide": MedicineSpec("C03CA01", "furosemide", "Furosémide 40 mg, comprimé",
                               "1 comprimé le matin", (1, "comprimé"), (1, 1, "d"), "regular"),
    "hydrocortisone": MedicineSpec("D07AA02", "hydrocortisone", "Hydrocortisone 1 %, crème",
                                   "1 application par jour sur les plaques pendant 7 jours",
                                   None, (1, 1, "d"), "regular"),
    "amoxicillin_child": MedicineSpec("J01CA04", "amoxicillin",
                                      "Amoxicilline 250 mg/5 mL, poudre pour suspension buvable",
                                      "1 dose-poids matin et soir pendant 8 jours",
                                      (1, "dose-poids"), (2, 1, "d"), "regular"),
}  # fmt: skip
