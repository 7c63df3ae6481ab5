"""Names of news agencies and outlets seen in wire copy bylines and credits.

Used where the text shape alone is ambiguous (e.g. a Title-case dateline
"Beirut (AFP) -" versus "President Trump (R) - ...", or a trailing "- Reuters"
versus a final bullet point "- Tax cuts"). All-caps acronyms are accepted
generically by the callers, so this list only needs mixed-case names and
agencies whose acronym is too short to trust.
"""

from __future__ import annotations

KNOWN_AGENCIES = frozenset(
    name.lower()
    for name in (
        "AP", "Associated Press", "The Associated Press", "Reuters",
        "Thomson Reuters", "AFP", "Agence France-Presse", "Agence France Presse",
        "UPI", "Bloomberg", "Xinhua", "dpa", "ANSA", "EFE", "Kyodo", "Yonhap",
        "TASS", "RIA Novosti", "Interfax", "Sputnik", "Anadolu",
        "Anadolu Agency", "AA", "PTI", "ANI", "IANS", "Bernama", "Antara",
        "APA", "IRNA", "ISNA", "Tasnim", "Fars", "Mehr", "WAM", "SPA", "QNA",
        "KUNA", "MENA", "SANA", "Petra", "CNA", "PA", "PA Media", "AAP",
        "CP", "The Canadian Press", "Canadian Press", "IPS", "MEMO",
        "Middle East Monitor", "CNN", "BBC", "Al Jazeera", "Al Arabiya",
        "CGTN", "NPR", "CBS", "NBC", "ABC", "Fox News", "Newsweek",
        "The Guardian", "The New York Times", "Washington Post",
        "The Washington Post", "Kyodo News", "Jiji", "Jiji Press", "Ukrinform",
        "Unian", "Europa Press", "Belga", "ANP", "NTB", "TT", "Ritzau", "STT",
        "Lusa", "Agencia Brasil", "Notimex", "Prensa Latina", "Telam",
        "Xinhua News Agency", "Press TV", "Trend", "Kazinform",
    )
)


def is_agency(name: str) -> bool:
    """True for a known agency name or a plausible agency acronym (2-6 caps).

    A credit of several agencies ("AFP/dpa") or an agency and its regional desk
    ("dpa/th", "dpa/lni": up to four letters after the slash) counts too.
    """
    name = name.strip().rstrip(".")
    if "/" in name:
        first, *rest = (part.strip() for part in name.split("/"))
        return bool(first) and is_agency(first) and all(
            is_agency(part) or (1 <= len(part) <= 4 and part.isalpha()) for part in rest)
    if name.lower() in KNOWN_AGENCIES:
        return True
    letters = name.replace("&", "").replace("-", "")
    return 2 <= len(letters) <= 6 and letters.isalpha() and letters.isupper()
