"""People and companies for the demo: names, tax ids that pass python-stdnum, mobiles and
landlines that phonenumbers calls valid, emails at example domains, postal addresses.

Everything comes from one ``random.Random`` and one seeded Faker, so a seed gives the same
people every time. Nothing here touches the database.
"""

import datetime as dt
import random
import unicodedata
from dataclasses import dataclass, field

import phonenumbers
from faker import Faker
from stdnum.co import nit
from stdnum.mx import curp, rfc

EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")
REGIONS = ("Norte", "Centro", "Sur")
REGION_WEIGHTS = (0.45, 0.35, 0.20)


@dataclass(frozen=True)
class Place:
    city: str
    state: str
    area_code: str  # MX: area code; CO: the landline's "indicativo" (601, 604, …)
    curp_state: str = ""  # MX: the two letters of the state in a CURP


PLACES: dict[str, dict[str, tuple[Place, ...]]] = {
    "MX": {
        "Norte": (
            Place("Monterrey", "N.L.", "81", "NL"),
            Place("Saltillo", "Coah.", "844", "CL"),
            Place("Chihuahua", "Chih.", "614", "CH"),
            Place("Hermosillo", "Son.", "662", "SR"),
            Place("Tijuana", "B.C.", "664", "BC"),
        ),
        "Centro": (
            Place("Ciudad de México", "CDMX", "55", "DF"),
            Place("Guadalajara", "Jal.", "33", "JC"),
            Place("Querétaro", "Qro.", "442", "QT"),
            Place("Puebla", "Pue.", "222", "PL"),
            Place("León", "Gto.", "477", "GT"),
        ),
        "Sur": (
            Place("Mérida", "Yuc.", "999", "YN"),
            Place("Oaxaca de Juárez", "Oax.", "951", "OC"),
            Place("Tuxtla Gutiérrez", "Chis.", "961", "CS"),
            Place("Villahermosa", "Tab.", "993", "TC"),
            Place("Cancún", "Q.R.", "998", "QR"),
        ),
    },
    "CO": {
        "Norte": (
            Place("Barranquilla", "Atlántico", "605"),
            Place("Cartagena", "Bolívar", "605"),
            Place("Santa Marta", "Magdalena", "605"),
        ),
        "Centro": (
            Place("Bogotá", "Bogotá D.C.", "601"),
            Place("Medellín", "Antioquia", "604"),
            Place("Bucaramanga", "Santander", "607"),
        ),
        "Sur": (
            Place("Cali", "Valle del Cauca", "602"),
            Place("Pasto", "Nariño", "602"),
            Place("Popayán", "Cauca", "602"),
        ),
    },
}

# Colombian mobile prefixes in use (Claro, Movistar, Tigo, WOM, virtual operators).
CO_MOBILE_PREFIXES = (
    "300", "301", "302", "304", "305", "310", "311", "312", "313", "314",
    "315", "316", "317", "318", "319", "320", "321", "322", "323", "350", "351",
)  # fmt: skip

MX_COLONIAS = (
    "Centro", "Del Valle", "Obrera", "Las Palmas", "San Nicolás", "Jardines del Sur",
    "Los Pinos", "Vista Hermosa", "Lomas de San Pedro", "Industrial", "Residencial Anáhuac",
    "Santa Fe", "Linda Vista", "Magisterial", "Buenos Aires",
)  # fmt: skip

COMPANY_WORDS = {
    "MX": (
        "Abarrotes", "Ferretería", "Distribuidora", "Transportes", "Construcciones",
        "Papelería", "Farmacia", "Comercializadora", "Servicios Integrales", "Refaccionaria",
        "Muebles", "Materiales", "Tortillería", "Taller Mecánico", "Consultores",
    ),
    "CO": (
        "Inversiones", "Distribuciones", "Ferretería", "Comercializadora", "Transportes",
        "Panadería", "Droguería", "Constructora", "Servicios Técnicos", "Confecciones",
        "Almacén", "Soluciones Logísticas", "Restaurante", "Agropecuaria", "Cacharrería",
    ),
}  # fmt: skip
COMPANY_SUFFIXES = {
    "MX": ("S.A. de C.V.", "S.A. de C.V.", "S. de R.L. de C.V.", "S.C."),
    "CO": ("S.A.S.", "S.A.S.", "S.A.S.", "Ltda.", "S.A."),
}

# Words that do not count when an RFC or CURP takes letters from a name.
_NAME_PARTICLES = {"DE", "DEL", "LA", "LAS", "LOS", "Y", "MC", "MAC", "VAN", "VON", "DA", "DI", "E"}
_COMPANY_SKIP = _NAME_PARTICLES | {"SA", "CV", "SC", "RL", "SAS", "LTDA", "S", "A", "C", "V", "EN", "PARA"}
_VOWELS = set("AEIOU")
# The words SAT and RENAPO avoid as the first four letters (python-stdnum knows them).
_RFC_AVOID = rfc._name_blacklist
_CURP_AVOID = curp._name_blacklist
_HOMOCLAVE_1 = "123456789ABCDEFGHIJKLMNPQRSTUV"
_HOMOCLAVE_2 = "123456789ABCDEFGHIJKLMNPQRSTUVWXYZ"


@dataclass(frozen=True)
class Contact:
    """A way to reach a debtor: ``value`` as the ERP writes it, ``normalized`` as Recobro keeps it."""

    kind: str  # ContactKind value
    value: str
    normalized: str
    label: str = ""
    is_primary: bool = False


@dataclass(frozen=True)
class Identity:
    """A debtor before it has any account: who they are and how to reach them."""

    kind: str  # "person" | "company"
    name: str
    tax_id: str
    tax_id_type: str  # TaxIdType value
    region: str
    city: str
    contacts: tuple[Contact, ...] = ()
    attributes: dict = field(default_factory=dict)


def plain_upper(text: str) -> str:
    """Upper case without accents; Ñ becomes X, as SAT and RENAPO write it."""
    text = text.upper().replace("Ñ", "X")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _words(text: str, skip: set[str]) -> list[str]:
    cleaned = "".join(ch if ch.isalpha() else " " for ch in plain_upper(text))
    return [w for w in cleaned.split() if w not in skip]


def _first_word(text: str) -> str:
    words = _words(text, _NAME_PARTICLES)
    return words[0] if words else "X"


def _given_name_for_keys(given: str) -> str:
    """SAT and RENAPO skip a leading María or José when the person has another name."""
    words = _words(given, _NAME_PARTICLES)
    if len(words) > 1 and words[0] in {"MARIA", "MA", "JOSE", "J"}:
        return words[1]
    return words[0] if words else "X"


def _first_inner(word: str, wanted_vowel: bool) -> str:
    for ch in word[1:]:
        if (ch in _VOWELS) == wanted_vowel and ch.isalpha():
            return ch
    return "X"


def _name_key(paternal: str, maternal: str, given: str, avoid: set[str]) -> str:
    first = _first_word(paternal)
    key = first[0] + _first_inner(first, True) + (_first_word(maternal)[0] if maternal else "X")
    key += _given_name_for_keys(given)[0]
    return key[:3] + "X" if key in avoid else key


def person_rfc(paternal: str, maternal: str, given: str, birth: dt.date, homoclave: str) -> str:
    """A person's RFC (13 characters) with its check digit computed as SAT does."""
    base = _name_key(paternal, maternal, given, _RFC_AVOID) + birth.strftime("%y%m%d") + homoclave
    return base + rfc.calc_check_digit(base)


def company_rfc(name: str, founded: dt.date, homoclave: str) -> str:
    """A company's RFC (12 characters): three letters of its name, the founding date, the check."""
    words = _words(name, _COMPANY_SKIP) or ["XXX"]
    letters = "".join(w[0] for w in words[:3])
    if len(letters) < 3:
        letters = (letters + words[-1][1:] + "XXX")[:3]
    base = letters + founded.strftime("%y%m%d") + homoclave
    return base + rfc.calc_check_digit(base)


def person_curp(
    paternal: str, maternal: str, given: str, birth: dt.date, sex: str, state: str, rng: random.Random
) -> str:
    """A CURP (18 characters) with RENAPO's check digit; ``sex`` is "H" or "M"."""
    key = _name_key(paternal, maternal, given, _CURP_AVOID)
    consonants = (
        _first_inner(_first_word(paternal), False)
        + (_first_inner(_first_word(maternal), False) if maternal else "X")
        + _first_inner(_given_name_for_keys(given), False)
    )
    differentiator = str(rng.randrange(10)) if birth.year < 2000 else rng.choice("ABCDEFGHIJ")
    base = key + birth.strftime("%y%m%d") + sex + state + consonants + differentiator
    return base + curp.calc_check_digit(base)


def colombian_nit(rng: random.Random) -> str:
    """A company NIT as Colombians write it, "900123456-7", with its check digit."""
    base = str(rng.randint(800_000_000, 901_999_999))
    return f"{base}-{nit.calc_check_digit(base)}"


def colombian_cedula(rng: random.Random, birth_year: int) -> str:
    """A cédula de ciudadanía: 10 digits from 1000000000 for people registered since 2003,
    7 or 8 digits for older ones."""
    if birth_year >= 1985:
        return str(rng.randint(1_000_000_000, 1_152_000_000))
    if birth_year >= 1955:
        return str(rng.randint(10_000_000, 99_999_999))
    return str(rng.randint(1_000_000, 9_999_999))


def _valid_number(country: str, national: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(national, country)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


MOBILE_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
FIXED_TYPES = {phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


def phone_number(rng: random.Random, country: str, place: Place, mobile: bool) -> phonenumbers.PhoneNumber:
    """A phone number in a range in use, that phonenumbers says is valid for its country.

    Mexico dials ten digits for every line (area code + subscriber); Colombia's mobiles
    start with 3 and its landlines with 60 and the region digit.
    """
    wanted = MOBILE_TYPES if mobile else FIXED_TYPES
    for _ in range(100):
        if country == "MX":
            subscriber_digits = 10 - len(place.area_code)
            national = place.area_code + str(rng.randint(2, 9))
            national += "".join(str(rng.randrange(10)) for _ in range(subscriber_digits - 1))
        elif mobile:
            national = rng.choice(CO_MOBILE_PREFIXES) + str(rng.randint(2, 9))
            national += "".join(str(rng.randrange(10)) for _ in range(6))
        else:
            national = place.area_code + str(rng.randint(2, 8))
            national += "".join(str(rng.randrange(10)) for _ in range(6))
        number = _valid_number(country, national)
        if number is not None and phonenumbers.number_type(number) in wanted:
            return number
    raise ValueError(f"no valid {country} number found near {place.area_code}")


def e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def as_written(rng: random.Random, number: phonenumbers.PhoneNumber) -> str:
    """How an ERP or a sales clerk wrote the number: national, international or bare digits."""
    style = rng.random()
    if style < 0.45:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    if style < 0.75:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.national_significant_number(number)


def email_local(*parts: str) -> str:
    """The part before the @, from names: lower case ASCII words joined by dots (Ñ becomes n)."""
    folded = unicodedata.normalize("NFKD", " ".join(parts).lower())
    ascii_text = "".join(
        ch if ch.isascii() and ch.isalnum() else " " for ch in folded if not unicodedata.combining(ch)
    )
    return ".".join(ascii_text.split())[:40].strip(".") or "contacto"


class IdentityFactory:
    """Makes the people and companies of one organization, reproducibly."""

    def __init__(self, *, country: str, faker_locale: str, email_domain: str, rng: random.Random, seed: int):
        self.country = country
        self.email_domain = email_domain
        self.rng = rng
        self.faker = Faker(faker_locale)
        self.faker.seed_instance(seed)
        self.places = PLACES[country]
        self._used_tax_ids: set[str] = set()
        self._used_emails: set[str] = set()

    # -- tax ids, never repeated within an organization ---------------------------
    def _unique(self, make) -> str:
        for _ in range(50):
            value = make()
            if value not in self._used_tax_ids:
                self._used_tax_ids.add(value)
                return value
        raise ValueError("could not draw a unique tax id")

    def _birth_date(self) -> dt.date:
        return dt.date(1950, 1, 1) + dt.timedelta(days=self.rng.randrange(365 * 54))

    def _homoclave(self) -> str:
        return self.rng.choice(_HOMOCLAVE_1) + self.rng.choice(_HOMOCLAVE_2)

    # -- contacts -------------------------------------------------------------------
    def _email(self, local: str, domain: str | None = None) -> Contact:
        domain = domain or (
            self.email_domain if self.rng.random() < 0.6 else self.rng.choice(EXAMPLE_DOMAINS)
        )
        address = f"{local}@{domain}"
        n = 1
        while address in self._used_emails:
            n += 1
            address = f"{local}{n}@{domain}"
        self._used_emails.add(address)
        written = address if self.rng.random() < 0.85 else address.capitalize()
        return Contact("email", written, address, "", False)

    def _address(self, place: Place) -> str:
        if self.country == "MX":
            street = self.faker.street_name()
            colonia = self.rng.choice(MX_COLONIAS)
            number = self.rng.randint(1, 4999)
            postal_code = self.rng.randint(10000, 99999)
            return f"{street} {number}, Col. {colonia}, C.P. {postal_code}, {place.city}, {place.state}"
        return f"{self.faker.street_address()}, {place.city}, {place.state}"

    def _contacts(self, place: Place, local: str, company: bool) -> tuple[Contact, ...]:
        rng = self.rng
        contacts: list[Contact] = []
        has_mobile = rng.random() < (0.70 if company else 0.93)
        if has_mobile:
            mobile = phone_number(rng, self.country, place, mobile=True)
            contacts.append(Contact("mobile", as_written(rng, mobile), e164(mobile), "celular", True))
            if rng.random() < 0.35:
                contacts.append(Contact("whatsapp", e164(mobile), e164(mobile), "WhatsApp", False))
            if rng.random() < 0.08:
                other = phone_number(rng, self.country, place, mobile=True)
                while other == mobile:
                    other = phone_number(rng, self.country, place, mobile=True)
                contacts.append(Contact("mobile", as_written(rng, other), e164(other), "celular 2", False))
        if rng.random() < (0.85 if company else 0.22):
            landline = phone_number(rng, self.country, place, mobile=False)
            label = "oficina" if company else rng.choice(("casa", "trabajo"))
            contacts.append(
                Contact("landline", as_written(rng, landline), e164(landline), label, not has_mobile)
            )
        if rng.random() < (0.92 if company else 0.62):
            domain = "example.net" if company else None
            contacts.append(self._email(local, domain))
        if rng.random() < (0.70 if company else 0.35):
            address = self._address(place)
            contacts.append(Contact("address", address, address, "domicilio", False))
        if contacts and not any(c.is_primary for c in contacts):
            first = contacts[0]
            contacts[0] = Contact(first.kind, first.value, first.normalized, first.label, True)
        return tuple(contacts)

    # -- people and companies ---------------------------------------------------------
    def region(self) -> str:
        return self.rng.choices(REGIONS, weights=REGION_WEIGHTS)[0]

    def person(self, region: str) -> Identity:
        rng, fake = self.rng, self.faker
        sex = "M" if rng.random() < 0.52 else "H"
        given = fake.first_name_female() if sex == "M" else fake.first_name_male()
        paternal = fake.last_name()
        maternal = fake.last_name() if rng.random() < 0.96 else ""
        name = " ".join(p for p in (given, paternal, maternal) if p)
        birth = self._birth_date()
        place = rng.choice(self.places[region])
        if self.country == "MX":
            if rng.random() < 0.85:
                tax_type = "rfc"
                tax_id = self._unique(lambda: person_rfc(paternal, maternal, given, birth, self._homoclave()))
            else:
                tax_type = "curp"
                tax_id = self._unique(
                    lambda: person_curp(paternal, maternal, given, birth, sex, place.curp_state, rng)
                )
        else:
            tax_type = "cc"
            tax_id = self._unique(lambda: colombian_cedula(rng, birth.year))
        local = email_local(given.split()[0], paternal) + str(rng.randint(1, 99))
        return Identity(
            kind="person",
            name=name,
            tax_id=tax_id,
            tax_id_type=tax_type,
            region=region,
            city=place.city,
            contacts=self._contacts(place, local, company=False),
        )

    def company(self, region: str) -> Identity:
        rng = self.rng
        word = rng.choice(COMPANY_WORDS[self.country])
        owner = self.faker.last_name()
        if rng.random() < 0.3:
            owner = f"{owner} y {self.faker.last_name()}"
        name = f"{word} {owner} {rng.choice(COMPANY_SUFFIXES[self.country])}"
        if self.country == "MX":
            name = name.replace(" S.", ", S.", 1)
        place = rng.choice(self.places[region])
        if self.country == "MX":
            founded = dt.date(1985, 1, 1) + dt.timedelta(days=rng.randrange(365 * 37))
            tax_type = "rfc"
            tax_id = self._unique(lambda: company_rfc(name, founded, self._homoclave()))
        else:
            tax_type = "nit"
            tax_id = self._unique(lambda: colombian_nit(rng))
        local = rng.choice(("cobranza", "pagos", "cuentasporpagar", "tesoreria")) + "." + email_local(owner)
        return Identity(
            kind="company",
            name=name,
            tax_id=tax_id,
            tax_id_type=tax_type,
            region=region,
            city=place.city,
            contacts=self._contacts(place, local, company=True),
        )
