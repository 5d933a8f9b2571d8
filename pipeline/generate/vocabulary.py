"""The words the generator draws from: countries, company and person names, jobs, tags.

Vocabularies are ordered from most to least frequent where a Zipf draw picks from them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Final


def _v(words: str) -> tuple[str, ...]:
    """A vocabulary from a white-space separated string; ``_`` stands for a space in a word."""
    return tuple(word.replace("_", " ") for word in words.split())


@dataclass(frozen=True, slots=True)
class Country:
    """What a property's home country changes: domain, legal forms, language, region, phones."""

    code: str
    tld: str
    language: str
    region: str
    legal: tuple[str, ...]
    phones: tuple[str, ...]


#: Phone formats per country: ``#`` is any digit, ``N`` a digit from 1 to 9.
_PHONE_FORMATS: Final = {
    "fr": ("+33 N ## ## ## ##", "0N ## ## ## ##", "+33 (0)N ## ## ## ##", "+33N########"),
    "us": ("(N##) 555-####", "+1 N##-N##-####", "N##.N##.####", "+1 (N##) N##-#### ext. ##"),
    "de": ("+49-N#-N######", "0N# N######", "+49 N## N#######", "+49 (0)N# ### ###-##"),
    "uk": ("+44 20 N### ####", "020 N### ####", "+44 (0)7N## ######"),
    "es": ("+34 9## ### ###", "+34 6## ## ## ##", "9## ## ## ##"),
    "it": ("+39 06 #### ####", "+39 3## ### ####", "02-########"),
    "nl": ("+31 (0)20 ### ####", "+31 6 ########", "020-#######"),
    "jp": ("+81 3-####-####", "03-####-####", "+81-90-####-####"),
    "br": ("+55 11 9####-####", "(11) 9####-####", "+55 (21) ####-####"),
    "ca": ("+1 (N##) N##-####", "N##-N##-####", "+1 N## N## ####"),
}
#: code, top-level domain, language, region (of REGIONS), legal forms.
COUNTRIES: Final = tuple(
    Country(code, tld, language, region, _v(legal.replace(",", " ")), _PHONE_FORMATS[code])
    for code, tld, language, region, legal in map(
        str.split,
        (
            "fr fr fr France SAS,SA,SARL,SASU",
            "us com en NA Inc.,LLC,Corp.,Co.",
            "de de de DACH GmbH,AG,KG,GmbH_&_Co._KG",
            "uk co.uk en UK&I Ltd,PLC,LLP",
            "es es es EMEA S.L.,S.A.",
            "it it it EMEA S.r.l.,S.p.A.",
            "nl nl nl Benelux B.V.,N.V.",
            "jp jp ja APAC K.K.,G.K.",
            "br com.br pt LATAM Ltda.,S.A.",
            "ca ca en NA Inc.,Ltd.,Ltée",
        ),
    )
)

BRANDS: Final = _v(
    "Acme Globex Initech Umbrella Hooli Nordwind Soylent Vandelay Cyberdyne Aperture Tyrell Wonka "
    "Stark Massive Alpha Apex Atlas Aurora Beacon Bright Cobalt Crest Delta Echo Ember Everest "
    "Falcon Fjord Granite Harbor Helios Horizon Iris Juniper Kestrel Keystone Lumen Lynx Maple "
    "Meridian Nimbus Nova Oak Onyx Orion Pioneer Polar Quantum Quartz Redwood Sable Sequoia "
    "Sierra Solstice Summit Terra Titan Vertex Vista Zenith Blue_Harbor North_Star Silverline "
    "Müller Schröder Köhler Weiß Dubois Lefèvre Gauthier Mercier Bérard Benoît García Núñez Peña "
    "Muñoz Rossi Bianchi Ferrari Conti Jansen Visser Bakker Tanaka Sato Suzuki Silva Gonçalves "
    "Araújo Søndergaard Ångström Łukasiewicz Éclair Rivière Château Größer"
)
#: (sector word in a company name, the industry it suggests)
SECTORS: Final = tuple(
    tuple(pair.split(":"))
    for pair in _v(
        "Robotics:Manufacturing Analytics:Software Software:Software Systems:Software "
        "Technologies:Software Labs:Biotech Logistics:Logistics Logistique:Logistics "
        "Transport:Logistics Consulting:Consulting Conseil:Consulting Beratung:Consulting "
        "Media:Media Médias:Media Studio:Media Foods:Food_&_Beverage Brasserie:Food_&_Beverage "
        "Pharma:Healthcare Santé:Healthcare Health:Healthcare Energy:Energy Énergie:Energy "
        "Bau:Construction Construction:Construction Immobilier:Real_Estate Properties:Real_Estate "
        "Assurances:Insurance Versicherung:Insurance Capital:Financial_Services "
        "Finance:Financial_Services Retail:Retail Boutique:Retail Hotels:Hospitality "
        "Motors:Automotive Automobile:Automotive Aerospace:Aerospace Biotech:Biotech "
        "Agro:Agriculture Telecom:Telecommunications Networks:Telecommunications "
        "Academy:Education Textiles:Textiles "
        "Security:Security Digital:Marketing Commerce:E-commerce Technik:Manufacturing "
        "Werke:Manufacturing"
    )
)
INDUSTRIES: Final = (*sorted({industry for _, industry in SECTORS}), "Non-profit", "Government")
KIN: Final = _v(
    "&_Söhne &_Fils &_Sons &_Co. &_Partners &_Associés y_Asociados &_Figli &_Zonen Frères"
)
LEADS: Final = _v(
    "Société Compagnie Groupe Banque Maison Crédit Caisse Grupo Banco Atelier Institut"
)
QUALIFIERS: Final = _v(
    "Générale Nationale Européenne Lyonnaise Alpine Atlantique Méridionale Centrale Impériale "
    "Lumière Moderne Continentale Ibérica Mediterránea Royale Hanséatique Rhénane du_Nord "
    "de_l'Ouest Bretonne Parisienne"
)
GENERIC_TLDS: Final = _v("com com com io net eu")
ORG_MAILBOXES: Final = _v("contact info hello sales support office bonjour kontakt admin team hola")
FREE_MAIL: Final = _v(
    "gmail.com gmail.com outlook.com yahoo.com hotmail.com icloud.com gmx.de web.de orange.fr "
    "free.fr yahoo.fr libero.it proton.me"
)
FIRST: Final = _v(
    "Alice Bob Chloé Zoé Éloïse François Hélène Jérôme Léa Noémie Thibault Camille Jürgen Jörg "
    "Günther Lena Lukas Sören Björn Søren Åsa José María Lucía Álvaro Sofía Iñaki Giulia Marco "
    "Francesca Niccolò Sanne Daan Bram Hiroshi Yuki Haruto Sakura João Ana Luíza Gonçalo Emma "
    "Olivia Liam Noah James Sarah Michael Jessica David Priya Arjun Fatima Mohammed Wei Mei Olga "
    "Dmitri Aoife Siobhán Zoë Anne-Sophie Jean-Pierre Marie Thomas Nicolas Julia"
)
LAST: Final = _v(
    "Martin Bernard Dubois Thomas Robert Petit Durand Lefèvre Mercier Fournier Girard Lambert "
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schröder Köhler García Martínez "
    "López González Rodríguez Fernández Núñez Peña Rossi Russo Ferrari Esposito Bianchi Romano "
    "de_Jong Jansen de_Vries van_den_Berg Bakker Tanaka Suzuki Takahashi Watanabe Sato Silva "
    "Santos Oliveira Souza Gonçalves Smith Johnson Williams Brown Jones Miller Davis Wilson Taylor "
    "Anderson O'Brien Murphy Nguyen Kim Patel Singh Cohen Kowalski Nowak Novák Horváth Andersson "
    "Johansson Nielsen Hansen Østergaard"
)
#: (job title, seniority), most frequent first.
JOBS: Final = tuple(
    tuple(pair.split(":"))
    for pair in _v(
        "Software_Engineer:mid Account_Executive:mid Marketing_Manager:mid Sales_Manager:senior "
        "CEO:c-level Founder:c-level Engineer:mid Customer_Success_Manager:mid "
        "Product_Manager:senior Head_of_Marketing:director Head_of_Sales:director CTO:c-level "
        "VP_Sales:vp Office_Manager:mid Senior_Engineer:senior Data_Analyst:mid Designer:mid "
        "HR_Manager:senior CFO:c-level COO:c-level VP_Engineering:vp VP_Marketing:vp "
        "Co-founder_&_CTO:c-level Chief_Technology_Officer:c-level Directeur_Commercial:director "
        "Responsable_Marketing:senior Geschäftsführer:c-level Leiter_Vertrieb:director "
        "Ingénieur_Logiciel:mid Jefe_de_Ventas:director Intern:junior "
        "Sales_Development_Representative:junior Junior_Developer:junior Consultant:mid "
        "Purchasing_Manager:senior IT_Director:director Lead_Developer:lead Tech_Lead:lead "
        "Team_Lead_Support:lead Assistant:junior"
    )
)
_CORE_TAGS: Final = _v(
    "customer enterprise smb newsletter partner prospect vip churn-risk mid-market trial lead "
    "reseller upsell renewal onboarding champion decision-maker hot-lead cold-lead influencer "
    "beta-tester nps-promoter nps-detractor support-heavy high-value low-engagement inactive "
    "active-user power-user free-tier paying annual monthly do-not-contact gdpr-consent "
    "unsubscribed bounced key-account strategic startup agency nonprofit education government "
    "b2b b2c saas ecommerce french-speaking german-speaking"
)
_TAG_FAMILIES: Final = {
    "integration": "slack zapier hubspot salesforce shopify wordpress stripe zendesk intercom "
    "mailchimp pipedrive notion segment twilio whatsapp messenger instagram teams jira make",
    "source": "website referral linkedin google-ads partner cold-call tradeshow newsletter api",
    "event": "websummit vivatech saastr dmexco slush ces sxsw webinar-q1 webinar-q2 meetup",
    "region": "emea na latam apac dach nordics benelux france uki anz",
    "product": "chat helpdesk crm analytics api mobile inbox bots kb voice",
    "persona": "founder marketer developer support-lead ops sales cfo it",
    "beta": "ai-bot voice sso audit-log sandbox workflows reports sla",
    "competitor": "zendesk intercom freshdesk hubspot drift crisp tidio front",
}
#: About 200 tags, most frequent first (core tags, then families, campaigns and cohorts).
TAGS: Final = (
    *_CORE_TAGS,
    *(f"{family}-{word}" for family, words in _TAG_FAMILIES.items() for word in words.split()),
    *(f"campaign-{y}-q{q}" for y in (2023, 2024, 2025) for q in (1, 2, 3, 4)),
    *(f"cohort-{y}-{m:02d}" for y in (2024, 2025) for m in range(1, 13)),
    *(f"industry-{i.lower().replace(' & ', '-').replace(' ', '-')}" for i in INDUSTRIES),
)
REGIONS: Final = _v("EMEA NA LATAM APAC DACH Nordics Benelux France UK&I ANZ")
LANGUAGES: Final = _v("en fr de es it pt nl ja zh ar")
PLANS: Final = _v("free starter premium business enterprise")
SENIORITIES: Final = _v("junior mid senior lead director vp c-level")
AUTHORS: Final = _v(
    "Alice_Martin Bruno_Keller Chloé_Dupont Daniel_Weber Emma_Rossi Farid_Haddad Greta_Larsen "
    "Hugo_Moreau Inès_García Jonas_Becker Kenji_Sato Laura_Schmidt Marta_López Nora_Jansen "
    "Omar_Benali Paula_Silva support-bot sales-bot Zapier"
)
KIND_MIX: Final = {"note": 0.3, "chat": 0.36, "ticket": 0.2, "call": 0.14}
#: (entity, key, label, type) of the custom attributes every property defines.
CUSTOM: Final = (
    ("organization", "plan", "Plan", "text"),
    ("organization", "industry", "Industry", "text"),
    ("organization", "arr", "ARR (EUR)", "number"),
    ("organization", "employees", "Employees", "number"),
    ("organization", "is_customer", "Is customer", "boolean"),
    ("organization", "renewal_date", "Renewal date", "date"),
    ("organization", "last_seen_at", "Last seen", "datetime"),
    ("organization", "regions", "Regions", "list"),
    ("person", "seniority", "Seniority", "text"),
    ("person", "nps", "NPS score", "number"),
    ("person", "is_vip", "VIP", "boolean"),
    ("person", "birthday", "Birthday", "date"),
    ("person", "last_login_at", "Last login", "datetime"),
    ("person", "languages", "Languages", "list"),
)

_FOLD: Final = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "ł": "l"}
)


def slug(text: str) -> str:
    """``"Müller & Söhne"`` -> ``"muellersoehne"``: the ASCII letters and digits of a name."""
    folded = unicodedata.normalize("NFKD", text.lower().translate(_FOLD))
    return "".join(c for c in folded if c.isascii() and c.isalnum())
