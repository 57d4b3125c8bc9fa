"""Small reference tables the generator draws from, each with its source.

Names: most common US first names (SSA baby-name counts, 1950-1990 cohorts) and surnames
(US Census Bureau 2010 surname file, top entries). Places: ZIP codes and cities of the
Minneapolis-Saint Paul metro (USPS). Everything here is public reference data or a stylised
summary of published figures; no record describes a real person.
"""

from __future__ import annotations

# --- people ------------------------------------------------------------------------------------

MALE_FIRST = (
    "James Robert John Michael William David Richard Joseph Thomas Charles Christopher Daniel "
    "Matthew Anthony Mark Donald Steven Paul Andrew Joshua Kenneth Kevin Brian George Timothy "
    "Ronald Edward Jason Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin Scott "
    "Brandon Benjamin Samuel Gregory Alexander Frank Patrick Raymond Jack Dennis Jerry Tyler Aaron "
    "Jose Adam Nathan Henry Douglas Zachary Peter Kyle Ethan Walter Noah Jeremy Christian Keith "
    "Roger Terry Gerald Harold Sean Austin Carl Arthur Lawrence Dylan Jesse Jordan Bryan Billy Joe "
    "Bruce Gabriel Logan Albert Willie Alan Juan Wayne Elijah Randy Roy Vincent Ralph Eugene Russell "
    "Bobby Mason Philip Louis Mohamed Ahmed Tou Nhia"
).split()

FEMALE_FIRST = (
    "Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty "
    "Margaret Sandra Ashley Kimberly Emily Donna Michelle Carol Amanda Dorothy Melissa Deborah "
    "Stephanie Rebecca Sharon Laura Cynthia Kathleen Amy Angela Shirley Anna Brenda Pamela Emma "
    "Nicole Helen Samantha Katherine Christine Debra Rachel Carolyn Janet Catherine Maria Heather "
    "Diane Ruth Julie Olivia Joyce Virginia Victoria Kelly Lauren Christina Joan Evelyn Judith Megan "
    "Andrea Cheryl Hannah Jacqueline Martha Gloria Teresa Ann Sara Madison Frances Kathryn Janice "
    "Jean Abigail Alice Judy Sophia Grace Denise Amber Doris Marilyn Danielle Beverly Isabella "
    "Theresa Diana Natalie Brittany Charlotte Marie Kayla Alexis Lori Fatima Hodan Mai Pa"
).split()

LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips "
    "Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers "
    "Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson "
    "Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo "
    "Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell "
    "Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson "
    "Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson "
    "Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison Fernandez "
    "McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns "
    "Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt "
    "Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice "
    "Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn "
    "Kelley Spencer Hawkins Arnold Pierce Vazquez Hansen Peters Santos Hart Bradley Knight Elliott "
    "Cunningham Duncan Armstrong Hudson Carroll Lane Riley Andrews Alvarado Ray Delgado Berry "
    "Perkins Hoffman Johnston Matthews Pena Richards Willis Carpenter Lawrence Sandoval Larson "
    "Swanson Lindquist Carlson Nelsen Gustafson Johnsen Lund Vang Xiong Yang Lor Her Thao Moua Ali "
    "Hassan Abdi Warsame"
).split()

#: Common nicknames (the EHR sometimes records these instead of the legal first name).
NICKNAMES = {
    "Robert": "Bob",
    "William": "Bill",
    "Richard": "Rick",
    "James": "Jim",
    "John": "Jack",
    "Michael": "Mike",
    "Joseph": "Joe",
    "Thomas": "Tom",
    "Charles": "Chuck",
    "Christopher": "Chris",
    "Daniel": "Dan",
    "Matthew": "Matt",
    "Anthony": "Tony",
    "Donald": "Don",
    "Steven": "Steve",
    "Andrew": "Andy",
    "Kenneth": "Ken",
    "Joshua": "Josh",
    "Edward": "Ed",
    "Ronald": "Ron",
    "Timothy": "Tim",
    "Jeffrey": "Jeff",
    "Gregory": "Greg",
    "Benjamin": "Ben",
    "Samuel": "Sam",
    "Patrick": "Pat",
    "Alexander": "Alex",
    "Nicholas": "Nick",
    "Jonathan": "Jon",
    "Lawrence": "Larry",
    "Raymond": "Ray",
    "Gerald": "Jerry",
    "Zachary": "Zach",
    "Douglas": "Doug",
    "Philip": "Phil",
    "Elizabeth": "Liz",
    "Jennifer": "Jen",
    "Patricia": "Patty",
    "Margaret": "Peggy",
    "Susan": "Sue",
    "Katherine": "Kate",
    "Deborah": "Deb",
    "Rebecca": "Becky",
    "Kimberly": "Kim",
    "Jessica": "Jess",
    "Christine": "Chris",
    "Barbara": "Barb",
    "Cynthia": "Cindy",
    "Pamela": "Pam",
    "Samantha": "Sam",
    "Victoria": "Vicky",
    "Abigail": "Abby",
    "Stephanie": "Steph",
    "Theresa": "Terry",
    "Judith": "Judy",
    "Dorothy": "Dot",
    "Catherine": "Cathy",
    "Sandra": "Sandy",
    "Kathleen": "Kathy",
    "Jacqueline": "Jackie",
    "Christina": "Tina",
    "Alexis": "Lexi",
    "Madison": "Maddie",
}

STREETS = (
    "Oak Maple Elm Cedar Pine Birch Lake Park Lincoln Washington Jefferson Franklin Grand Summit "
    "Hennepin Lyndale Nicollet Portland Chicago Cedar Lake Minnehaha Snelling Selby Marshall "
    "University Como Payne Arcade Rice Victoria Dale Lexington Hamline Fairview Cleveland Cretin "
    "Ford Randolph Highland Ridge Valley Hillcrest Sunset Meadow Prairie River Bluff Chestnut "
    "Walnut Willow Aspen Spruce Juniper Linden Hawthorne Sycamore Lakeview Riverside Broadway "
    "France Xerxes Penn Humboldt Bryant Colfax Dupont Emerson Fremont Girard Irving James Knox"
).split()
STREET_SUFFIX = ("St", "Ave", "Rd", "Dr", "Ln", "Blvd", "Way", "Ct", "Pkwy", "Cir")

#: (ZIP, city, phone area code) in the Minneapolis-Saint Paul metro (USPS; NANPA area codes).
ZIPS = (
    ("55401", "Minneapolis", "612"),
    ("55403", "Minneapolis", "612"),
    ("55404", "Minneapolis", "612"),
    ("55405", "Minneapolis", "612"),
    ("55406", "Minneapolis", "612"),
    ("55407", "Minneapolis", "612"),
    ("55408", "Minneapolis", "612"),
    ("55409", "Minneapolis", "612"),
    ("55410", "Minneapolis", "612"),
    ("55411", "Minneapolis", "612"),
    ("55412", "Minneapolis", "612"),
    ("55413", "Minneapolis", "612"),
    ("55414", "Minneapolis", "612"),
    ("55417", "Minneapolis", "612"),
    ("55418", "Minneapolis", "612"),
    ("55419", "Minneapolis", "612"),
    ("55416", "Saint Louis Park", "952"),
    ("55426", "Saint Louis Park", "952"),
    ("55420", "Bloomington", "952"),
    ("55431", "Bloomington", "952"),
    ("55437", "Bloomington", "952"),
    ("55423", "Richfield", "612"),
    ("55422", "Robbinsdale", "763"),
    ("55428", "Brooklyn Park", "763"),
    ("55443", "Brooklyn Park", "763"),
    ("55430", "Brooklyn Center", "763"),
    ("55432", "Fridley", "763"),
    ("55433", "Coon Rapids", "763"),
    ("55434", "Blaine", "763"),
    ("55435", "Edina", "952"),
    ("55436", "Edina", "952"),
    ("55441", "Plymouth", "763"),
    ("55447", "Plymouth", "763"),
    ("55311", "Maple Grove", "763"),
    ("55369", "Maple Grove", "763"),
    ("55344", "Eden Prairie", "952"),
    ("55347", "Eden Prairie", "952"),
    ("55305", "Minnetonka", "952"),
    ("55345", "Minnetonka", "952"),
    ("55343", "Hopkins", "952"),
    ("55337", "Burnsville", "952"),
    ("55379", "Shakopee", "952"),
    ("55372", "Prior Lake", "952"),
    ("55318", "Chaska", "952"),
    ("55317", "Chanhassen", "952"),
    ("55303", "Anoka", "763"),
    ("55304", "Andover", "763"),
    ("55330", "Elk River", "763"),
    ("55101", "Saint Paul", "651"),
    ("55102", "Saint Paul", "651"),
    ("55104", "Saint Paul", "651"),
    ("55105", "Saint Paul", "651"),
    ("55106", "Saint Paul", "651"),
    ("55107", "Saint Paul", "651"),
    ("55116", "Saint Paul", "651"),
    ("55117", "Saint Paul", "651"),
    ("55119", "Saint Paul", "651"),
    ("55109", "Maplewood", "651"),
    ("55110", "White Bear Lake", "651"),
    ("55112", "New Brighton", "651"),
    ("55113", "Roseville", "651"),
    ("55118", "West Saint Paul", "651"),
    ("55120", "Mendota Heights", "651"),
    ("55122", "Eagan", "651"),
    ("55123", "Eagan", "651"),
    ("55124", "Apple Valley", "952"),
    ("55125", "Woodbury", "651"),
    ("55129", "Woodbury", "651"),
    ("55126", "Shoreview", "651"),
    ("55128", "Oakdale", "651"),
    ("55016", "Cottage Grove", "651"),
    ("55044", "Lakeville", "952"),
    ("55068", "Rosemount", "651"),
    ("55076", "Inver Grove Heights", "651"),
    ("55075", "South Saint Paul", "651"),
    ("55082", "Stillwater", "651"),
)

#: Race and ethnicity mix of the metro (US Census Bureau, ACS 2022 5-year, rounded).
RACES = (
    ("white", 0.72),
    ("black or african american", 0.09),
    ("asian", 0.07),
    ("american indian or alaska native", 0.01),
    ("two or more races", 0.05),
    ("other race", 0.02),
    ("unknown", 0.04),
)
HISPANIC_SHARE = 0.065

# --- chronic conditions ------------------------------------------------------------------------

#: Age bands used throughout: 0-1, 2-17, 18-44, 45-64, 65-74, 75-84, 85+.
AGE_BAND_EDGES = (2, 18, 45, 65, 75, 85)

#: (key, ICD-10-CM, prevalence by age band, Medicaid multiplier, utilisation weight, specialty).
#: Prevalence is stylised from CDC NCHS (NHIS/NHANES) and the CMS Chronic Conditions Data
#: Warehouse; the utilisation weight multiplies a member's use of care.
CONDITIONS = (
    ("diabetes", "E119", (0, 0.002, 0.035, 0.13, 0.25, 0.27, 0.23), 1.3, 1.30, "endocrinology"),
    ("hypertension", "I10", (0, 0.004, 0.09, 0.33, 0.58, 0.66, 0.70), 1.1, 1.10, "cardiology"),
    ("hyperlipidemia", "E785", (0, 0.003, 0.08, 0.30, 0.50, 0.52, 0.45), 1.0, 1.05, "cardiology"),
    ("asthma", "J45909", (0.01, 0.08, 0.08, 0.08, 0.07, 0.06, 0.05), 1.4, 1.20, "pulmonology"),
    ("copd", "J449", (0, 0, 0.005, 0.05, 0.11, 0.13, 0.13), 1.5, 1.60, "pulmonology"),
    ("heart_failure", "I509", (0, 0, 0.002, 0.02, 0.08, 0.14, 0.20), 1.3, 2.20, "cardiology"),
    (
        "atrial_fibrillation",
        "I4891",
        (0, 0, 0.002, 0.015, 0.07, 0.12, 0.16),
        1.0,
        1.50,
        "cardiology",
    ),
    ("ckd", "N1830", (0, 0.001, 0.01, 0.05, 0.16, 0.24, 0.30), 1.2, 1.60, "nephrology"),
    ("depression", "F329", (0, 0.03, 0.12, 0.14, 0.13, 0.12, 0.12), 1.6, 1.30, "psychiatry"),
    ("anxiety", "F419", (0, 0.05, 0.14, 0.11, 0.08, 0.07, 0.06), 1.4, 1.15, "psychiatry"),
    ("back_pain", "M5450", (0, 0.01, 0.10, 0.15, 0.16, 0.15, 0.13), 1.3, 1.25, "pain_management"),
    ("osteoarthritis", "M170", (0, 0, 0.01, 0.07, 0.16, 0.21, 0.22), 1.1, 1.20, "orthopedics"),
    ("obesity", "E669", (0, 0.04, 0.10, 0.12, 0.10, 0.07, 0.04), 1.3, 1.10, "endocrinology"),
    ("cancer", "C189", (0, 0.001, 0.004, 0.015, 0.035, 0.045, 0.04), 1.0, 3.00, "oncology"),
    ("dementia", "G309", (0, 0, 0, 0.003, 0.03, 0.10, 0.25), 1.2, 1.60, "neurology"),
)
CONDITION_KEYS = tuple(c[0] for c in CONDITIONS)
#: ICD-10-CM of a member's cancer, by sex (female, male).
CANCER_CODES = (("C50911", "C3490", "C189"), ("C61", "C3490", "C189"))

#: Frequent acute ICD-10-CM codes (no dot) by setting.
ACUTE_OFFICE_DX = (
    "J069 J029 H6690 N390 R059 M25561 L309 R42 K219 R5383 J0390 R509 M5450 T7840XA R112"
).split()
ACUTE_ED_DX = (
    "R079 R1030 R109 S93401A S0990XA J069 N390 R519 R55 J189 K529 M5450 R112 S61411A T7840XA "
    "R0602 R509 H6690"
).split()
WELLNESS_DX_ADULT = ("Z0000", "Z0001")
WELLNESS_DX_CHILD = ("Z00129", "Z00121")
PSYCH_DX = ("F329", "F411", "F331", "F4310")

# --- providers ---------------------------------------------------------------------------------

#: key -> (CMS specialty code, specialty, NUCC taxonomy, primary care, credential).
#: Sources: CMS Medicare provider/supplier-to-specialty crosswalk; NUCC taxonomy code set.
SPECIALTIES = {
    "family_medicine": ("08", "family practice", "207Q00000X", True, "MD"),
    "internal_medicine": ("11", "internal medicine", "207R00000X", True, "MD"),
    "pediatrics": ("37", "pediatric medicine", "208000000X", True, "MD"),
    "geriatrics": ("38", "geriatric medicine", "207QG0300X", True, "DO"),
    "nurse_practitioner": ("50", "nurse practitioner", "363LF0000X", True, "NP"),
    "physician_assistant": ("97", "physician assistant", "363A00000X", True, "PA-C"),
    "cardiology": ("06", "cardiovascular disease", "207RC0000X", False, "MD"),
    "endocrinology": ("46", "endocrinology", "207RE0101X", False, "MD"),
    "pulmonology": ("29", "pulmonary disease", "207RP1001X", False, "MD"),
    "nephrology": ("39", "nephrology", "207RN0300X", False, "MD"),
    "psychiatry": ("26", "psychiatry", "2084P0800X", False, "MD"),
    "psychology": ("62", "psychologist, clinical", "103TC0700X", False, "PhD"),
    "orthopedics": ("20", "orthopedic surgery", "207X00000X", False, "MD"),
    "pain_management": ("09", "interventional pain management", "208VP0014X", False, "MD"),
    "oncology": ("90", "medical oncology", "207RX0202X", False, "MD"),
    "gastroenterology": ("10", "gastroenterology", "207RG0100X", False, "MD"),
    "general_surgery": ("02", "general surgery", "208600000X", False, "MD"),
    "obgyn": ("16", "obstetrics & gynecology", "207V00000X", False, "MD"),
    "radiology": ("30", "diagnostic radiology", "2085R0202X", False, "MD"),
    "emergency_medicine": ("93", "emergency medicine", "207P00000X", False, "MD"),
    "hospitalist": ("C6", "hospitalist", "208M00000X", False, "MD"),
    "neurology": ("13", "neurology", "2084N0400X", False, "MD"),
    "ophthalmology": ("18", "ophthalmology", "207W00000X", False, "MD"),
    "dermatology": ("07", "dermatology", "207N00000X", False, "MD"),
    "physical_therapy": ("65", "physical therapist", "225100000X", False, "DPT"),
    "cardiac_surgery": ("78", "cardiac surgery", "208G00000X", False, "MD"),
    "anesthesiology": ("05", "anesthesiology", "207L00000X", False, "MD"),
}
PCP_SPECIALTIES = tuple(k for k, v in SPECIALTIES.items() if v[3])
#: Relative head-count of clinicians per specialty (per primary-care clinician = 1.0 in total).
CLINICIAN_MIX = {
    "family_medicine": 0.34,
    "internal_medicine": 0.24,
    "pediatrics": 0.14,
    "geriatrics": 0.04,
    "nurse_practitioner": 0.14,
    "physician_assistant": 0.10,
    "cardiology": 0.08,
    "endocrinology": 0.03,
    "pulmonology": 0.03,
    "nephrology": 0.02,
    "psychiatry": 0.04,
    "psychology": 0.05,
    "orthopedics": 0.06,
    "pain_management": 0.02,
    "oncology": 0.03,
    "gastroenterology": 0.03,
    "general_surgery": 0.04,
    "obgyn": 0.05,
    "radiology": 0.05,
    "emergency_medicine": 0.07,
    "hospitalist": 0.08,
    "neurology": 0.02,
    "ophthalmology": 0.03,
    "dermatology": 0.03,
    "physical_therapy": 0.08,
    "cardiac_surgery": 0.01,
    "anesthesiology": 0.05,
}
#: Organisation kinds -> (CMS specialty code, description, NUCC taxonomy).
ORG_KINDS = {
    "hospital": ("A0", "hospital", "282N00000X"),
    "snf": ("A1", "skilled nursing facility", "314000000X"),
    "home_health": ("A4", "home health agency", "251E00000X"),
    "pharmacy": ("A5", "pharmacy", "3336C0003X"),
    "lab": ("69", "clinical laboratory", "291U00000X"),
    "imaging": ("47", "independent diagnostic testing facility", "261QR0200X"),
    "asc": ("49", "ambulatory surgical center", "261QA1903X"),
    "clinic": ("70", "multispecialty clinic or group practice", "193200000X"),
    "pain_clinic": ("70", "pain clinic", "261QP3300X"),
    "ambulance": ("59", "ambulance service supplier", "3416L0300X"),
}

# --- procedures and prices ---------------------------------------------------------------------

#: HCPCS/CPT -> (professional allowed, facility allowed) in Medicare dollars, first data year.
#: Stylised from the CMS Physician Fee Schedule (2023 national, non-facility), OPPS APC payment
#: rates and the Clinical Laboratory Fee Schedule; rounded.
HCPCS_PRICES = {
    # office E/M
    "99202": (75, 0),
    "99203": (115, 0),
    "99204": (170, 0),
    "99205": (225, 0),
    "99211": (25, 0),
    "99212": (58, 0),
    "99213": (93, 0),
    "99214": (131, 0),
    "99215": (185, 0),
    # preventive and wellness
    "99381": (115, 0),
    "99382": (120, 0),
    "99383": (120, 0),
    "99384": (130, 0),
    "99385": (125, 0),
    "99386": (145, 0),
    "99387": (155, 0),
    "99391": (105, 0),
    "99392": (110, 0),
    "99393": (110, 0),
    "99394": (115, 0),
    "99395": (115, 0),
    "99396": (125, 0),
    "99397": (135, 0),
    "G0438": (175, 0),
    "G0439": (135, 0),
    # emergency department (professional, facility level)
    "99281": (20, 85),
    "99282": (40, 155),
    "99283": (68, 270),
    "99284": (118, 440),
    "99285": (172, 640),
    # hospital inpatient care and transitional care management
    "99221": (105, 0),
    "99222": (140, 0),
    "99223": (200, 0),
    "99231": (42, 0),
    "99232": (75, 0),
    "99233": (108, 0),
    "99238": (75, 0),
    "99239": (110, 0),
    "99495": (205, 0),
    "99496": (280, 0),
    # behavioural health
    "90791": (175, 0),
    "90834": (105, 0),
    "90837": (150, 0),
    # physical therapy
    "97161": (100, 0),
    "97110": (30, 0),
    "97140": (28, 0),
    "97530": (35, 0),
    # laboratory
    "36415": (3, 3),
    "80053": (11, 11),
    "85025": (8, 8),
    "80061": (13, 13),
    "83036": (10, 10),
    "84443": (17, 17),
    "81001": (3, 3),
    "87086": (9, 9),
    "87880": (17, 17),
    "82274": (16, 16),
    "81528": (510, 510),
    "82043": (8, 8),
    # imaging and cardiology diagnostics
    "71046": (30, 75),
    "73562": (35, 70),
    "70450": (110, 200),
    "74177": (310, 450),
    "72148": (215, 390),
    "76700": (120, 210),
    "93306": (205, 500),
    "93000": (17, 60),
    "77067": (135, 150),
    # procedures
    "45378": (380, 1100),
    "45380": (450, 1100),
    "G0121": (380, 1100),
    "66984": (540, 2100),
    "29881": (540, 3200),
    "47562": (640, 5600),
    "49505": (470, 3500),
    "64483": (190, 800),
    "20610": (60, 250),
    "27447": (1350, 0),
    "92928": (650, 0),
    "27245": (1000, 0),
    "59400": (2300, 0),
    "59510": (2600, 0),
    "22612": (1500, 0),
    "44140": (1300, 0),
    # injections, infusions and drugs
    "90686": (22, 22),
    "90662": (65, 65),
    "90471": (25, 25),
    "G0008": (32, 32),
    "90732": (110, 110),
    "90677": (250, 250),
    "90750": (190, 190),
    "90715": (45, 45),
    "96413": (140, 300),
    "96374": (45, 190),
    "96360": (40, 190),
    "J9271": (55, 55),
    "J2405": (1, 1),
    "J1885": (1, 1),
    "J7030": (5, 5),
    # ambulance (base rate per trip, mileage per mile)
    "A0427": (480, 0),
    "A0429": (420, 0),
    "A0425": (8.5, 0),
    # anesthesia (flat, typical base plus time units)
    "00811": (200, 0),
    "00812": (180, 0),
    "00142": (170, 0),
    "01382": (190, 0),
    "00832": (230, 0),
    "00790": (330, 0),
    "01402": (360, 0),
    "01230": (300, 0),
    "00630": (420, 0),
    "01961": (400, 0),
    "01967": (450, 0),
    # observation care (per hour) and intravitreal injection with aflibercept (per 1 mg)
    "G0378": (0, 110),
    "67028": (105, 105),
    "J0178": (900, 900),
    # home health visits
    "G0299": (150, 150),
    "G0151": (165, 165),
    "G0152": (165, 165),
}

#: Revenue codes used on institutional lines -> default charge per unit (dollars).
REVENUE_CHARGES = {
    "0110": 2600,
    "0120": 2200,
    "0200": 5200,
    "0250": 450,
    "0270": 380,
    "0300": 240,
    "0320": 420,
    "0350": 1600,
    "0360": 6500,
    "0370": 1500,
    "0402": 700,
    "0403": 450,
    "0420": 280,
    "0421": 260,
    "0430": 270,
    "0431": 260,
    "0450": 1200,
    "0483": 1400,
    "0551": 250,
    "0610": 2400,
    "0636": 900,
    "0335": 1100,
    "0710": 1300,
    "0730": 180,
    "0762": 300,
    "0750": 2800,
}

#: MS-DRG -> (title, relative weight, geometric mean length of stay, principal ICD-10-CM,
#: ICD-10-PCS or None, surgeon CPT or None). Weights and GMLOS approximate, rounded, after CMS
#: FY2024 IPPS Final Rule Table 5.
DRGS = {
    "871": ("septicemia w/o mv >96 hours w mcc", 1.90, 4.5, "A419", None, None),
    "872": ("septicemia w/o mv >96 hours w/o mcc", 1.03, 3.3, "A419", None, None),
    "291": ("heart failure and shock w mcc", 1.34, 3.8, "I5023", None, None),
    "292": ("heart failure and shock w cc", 0.90, 2.9, "I5033", None, None),
    "190": ("chronic obstructive pulmonary disease w mcc", 1.15, 3.4, "J441", None, None),
    "192": ("chronic obstructive pulmonary disease w/o cc/mcc", 0.72, 2.5, "J441", None, None),
    "193": ("simple pneumonia and pleurisy w mcc", 1.30, 3.9, "J189", None, None),
    "194": ("simple pneumonia and pleurisy w cc", 0.88, 2.9, "J189", None, None),
    "195": ("simple pneumonia and pleurisy w/o cc/mcc", 0.68, 2.3, "J189", None, None),
    "202": ("bronchitis and asthma w cc/mcc", 0.85, 2.6, "J45901", None, None),
    "203": ("bronchitis and asthma w/o cc/mcc", 0.62, 2.0, "J45901", None, None),
    "065": ("intracranial hemorrhage or cerebral infarction w cc", 1.05, 3.0, "I639", None, None),
    "309": ("cardiac arrhythmia and conduction disorders w cc", 0.80, 2.4, "I4891", None, None),
    "313": ("chest pain", 0.60, 1.6, "R079", None, None),
    "392": (
        "esophagitis, gastroent and misc digest disorders w/o mcc",
        0.75,
        2.5,
        "K529",
        None,
        None,
    ),
    "603": ("cellulitis w/o mcc", 0.85, 3.2, "L03115", None, None),
    "690": ("kidney and urinary tract infections w/o mcc", 0.80, 2.7, "N390", None, None),
    "683": ("renal failure w cc", 0.90, 3.2, "N179", None, None),
    "638": ("diabetes w cc", 0.85, 2.7, "E1165", None, None),
    "885": ("psychoses", 1.30, 5.5, "F209", None, None),
    "897": (
        "alcohol, drug abuse or dependence w/o rehabilitation w/o mcc",
        0.80,
        3.0,
        "F10239",
        None,
        None,
    ),
    "378": ("g.i. hemorrhage w cc", 0.95, 3.0, "K922", None, None),
    "281": ("acute myocardial infarction, discharged alive w cc", 0.95, 2.8, "I214", None, None),
    "948": ("signs and symptoms w/o mcc", 0.75, 2.6, "R55", None, None),
    "153": ("otitis media and uri w/o mcc", 0.65, 2.1, "J069", None, None),
    "470": ("major hip and knee joint replacement w/o mcc", 1.90, 2.0, "M1711", "0SRC0J9", "27447"),
    "247": (
        "perc cardiovasc proc w drug-eluting stent w/o mcc",
        2.00,
        1.8,
        "I2510",
        "027034Z",
        "92928",
    ),
    "481": (
        "hip and femur procedures except major joint w cc",
        1.95,
        4.6,
        "S72001A",
        "0QS604Z",
        "27245",
    ),
    "419": (
        "laparoscopic cholecystectomy w/o c.d.e. w/o cc/mcc",
        1.20,
        1.8,
        "K8010",
        "0FT44ZZ",
        "47562",
    ),
    "460": ("spinal fusion except cervical w/o mcc", 3.90, 2.9, "M48061", "0SG00AJ", "22612"),
    "330": ("major small and large bowel procedures w cc", 2.50, 5.9, "K5720", "0DTN0ZZ", "44140"),
    "807": (
        "vaginal delivery w/o sterilization/d&c w/o cc/mcc",
        0.62,
        2.0,
        "O80",
        "10E0XZZ",
        "59400",
    ),
    "788": ("cesarean section w/o sterilization w/o cc/mcc", 0.90, 2.7, "O480", "10D00Z1", "59510"),
    "795": ("normal newborn", 0.17, 2.1, "Z3800", None, None),
}
#: DRG choice weights for medical admissions of adults, by the member's leading condition.
DRG_BY_CONDITION = {
    "heart_failure": ("291", "292"),
    "copd": ("190", "192", "193"),
    "asthma": ("202", "203"),
    "diabetes": ("638", "603", "690"),
    "ckd": ("683", "690"),
    "atrial_fibrillation": ("309", "065"),
    "hypertension": ("313", "065", "281"),
    "depression": ("885", "897"),
    "cancer": ("330", "871", "378"),
    "dementia": ("871", "690", "948"),
}
DRG_MEDICAL_GENERAL = ("871", "872", "193", "194", "195", "392", "603", "690", "313", "378", "948")
DRG_SURGICAL = ("470", "247", "481", "419", "460")
DRG_PEDIATRIC = ("153", "203", "195", "392")
#: Anesthesia code of a surgical CPT or of a surgical / delivery MS-DRG (ASA crosswalk).
ANESTHESIA_FOR = {
    "45378": "00811",
    "45380": "00811",
    "G0121": "00812",
    "66984": "00142",
    "29881": "01382",
    "49505": "00832",
    "47562": "00790",
    "470": "01402",
    "481": "01230",
    "460": "00630",
    "419": "00790",
    "330": "00790",
    "788": "01961",
    "807": "01967",
}

#: Base payment per unit of DRG weight (Medicare, first data year): the FY2024 national
#: standardized amount with typical wage-index, capital, IME and DSH add-ons, rounded so that the
#: average payment per discharge is near MedPAC's ~$15,000.
DRG_BASE_RATE = 9500.0

#: Price level of each product line relative to Medicare: (professional, outpatient facility,
#: inpatient). RAND Hospital Price Transparency round 5 (2024): commercial ~ 254 % of Medicare
#: for hospitals; MedPAC: commercial physician fees ~ 130-140 % of Medicare; MACPAC: Medicaid
#: physician fees ~ 70-80 % of Medicare.
PRICE_LEVEL = {
    "commercial": (1.45, 2.7, 2.1),
    "medicare_advantage": (1.0, 1.0, 1.0),
    "medicaid": (0.75, 0.85, 0.85),
}

# --- drugs -------------------------------------------------------------------------------------

#: NDC (11 digits, 5-4-2) -> (ingredient, strength mg per unit, unit, MME conversion factor,
#: extended release, price per unit $). Opioid and benzodiazepine NDCs from the FDA NDC
#: Directory as collected by the opioiddatalab/Codelists project; MME conversion factors from the
#: CDC Clinical Practice Guideline for Prescribing Opioids for Pain (2022), Table 1.
OPIOID_NDCS = {
    "00228287611": ("oxycodone", 5.0, "tablet", 1.5, False, 0.35),
    "00228287811": ("oxycodone", 15.0, "tablet", 1.5, False, 0.60),
    "00228287911": ("oxycodone", 30.0, "tablet", 1.5, False, 0.90),
    "00228298111": ("oxycodone; acetaminophen", 5.0, "tablet", 1.5, False, 0.30),
    "00228298211": ("oxycodone; acetaminophen", 7.5, "tablet", 1.5, False, 0.45),
    "00228298311": ("oxycodone; acetaminophen", 10.0, "tablet", 1.5, False, 0.55),
    "00093573101": ("oxycodone", 10.0, "tablet, extended release", 1.5, True, 2.10),
    "00093573201": ("oxycodone", 20.0, "tablet, extended release", 1.5, True, 3.40),
    "00093573301": ("oxycodone", 40.0, "tablet, extended release", 1.5, True, 5.90),
    "00093573401": ("oxycodone", 80.0, "tablet, extended release", 1.5, True, 10.50),
    "00406012301": ("hydrocodone; acetaminophen", 5.0, "tablet", 1.0, False, 0.20),
    "00406012401": ("hydrocodone; acetaminophen", 7.5, "tablet", 1.0, False, 0.25),
    "00254360128": ("hydrocodone; acetaminophen", 10.0, "tablet", 1.0, False, 0.30),
    "00172216260": ("morphine", 15.0, "tablet, extended release", 1.0, True, 0.70),
    "00172216360": ("morphine", 30.0, "tablet, extended release", 1.0, True, 1.10),
    "00172216460": ("morphine", 60.0, "tablet, extended release", 1.0, True, 2.00),
    "00172216560": ("morphine", 100.0, "tablet, extended release", 1.0, True, 3.20),
    "00093005801": ("tramadol", 50.0, "tablet", 0.2, False, 0.10),
}
#: Product families for chronic therapy: (name, NDCs by ascending strength).
OPIOID_FAMILIES = (
    ("hydrocodone_apap", ("00406012301", "00406012401", "00254360128")),
    ("oxycodone_apap", ("00228298111", "00228298211", "00228298311")),
    ("oxycodone_ir", ("00228287611", "00228287811", "00228287911")),
    ("oxycodone_er", ("00093573101", "00093573201", "00093573301", "00093573401")),
    ("morphine_er", ("00172216260", "00172216360", "00172216460", "00172216560")),
    ("tramadol", ("00093005801",)),
)
BENZO_NDCS = {
    "00378400101": ("alprazolam", 0.25, "tablet", 0.12),
    "00009005501": ("alprazolam", 0.5, "tablet", 0.95),
    "00009009001": ("alprazolam", 1.0, "tablet", 1.20),
}
#: Maintenance drugs by condition: NDC, ingredient, units per day, price per unit.
MAINTENANCE_DRUGS = {
    "diabetes": ("00093104801", "metformin 500 mg tablet", 2, 0.06),
    "hypertension": ("00069153068", "amlodipine 5 mg tablet", 1, 0.10),
    "hyperlipidemia": ("00071015523", "atorvastatin 10 mg tablet", 1, 0.12),
    "depression": ("00777310502", "fluoxetine 20 mg capsule", 1, 0.15),
    "back_pain": ("00071080524", "gabapentin 300 mg capsule", 3, 0.08),
    "asthma": ("00173068220", "albuterol sulfate hfa inhaler", 1, 1.10),
    "copd": ("00173068220", "albuterol sulfate hfa inhaler", 1, 1.10),
}

# --- clinical codes ----------------------------------------------------------------------------

#: LOINC codes of the observations the EHR records (LOINC 2.76).
LOINC = {
    "systolic": ("8480-6", "mm[Hg]"),
    "diastolic": ("8462-4", "mm[Hg]"),
    "hba1c": ("4548-4", "%"),
    "bmi": ("39156-5", "kg/m2"),
}
#: CVX codes (CDC Vaccine Administered code set).
CVX = {
    "flu": ("158", "influenza, injectable, quadrivalent, contains preservative"),
    "flu_high_dose": ("197", "influenza, high-dose, quadrivalent"),
    "ppsv23": ("33", "pneumococcal polysaccharide vaccine, 23 valent"),
    "pcv20": ("216", "pneumococcal conjugate vaccine, 20 valent"),
    "zoster": ("187", "zoster vaccine recombinant"),
    "tdap": ("115", "tdap"),
    "covid": ("213", "sars-cov-2 (covid-19) vaccine, unspecified formulation"),
    "dtap": ("20", "dtap"),
    "mmr": ("03", "mmr"),
    "hpv": ("165", "hpv9"),
}

#: CG-CAHPS 4.0 adult visit survey items used for experience measures: item -> max score.
SURVEY_ITEMS = (
    ("provider_rating", 10),
    ("recommend_office", 4),
    ("timely_appointment", 4),
    ("explained_clearly", 4),
    ("listened_carefully", 4),
    ("showed_respect", 4),
    ("staff_helpful", 4),
)
SDOH_DOMAINS = (
    "food",
    "housing",
    "transportation",
    "utilities",
    "interpersonal_safety",
    "financial",
    "social_isolation",
)
