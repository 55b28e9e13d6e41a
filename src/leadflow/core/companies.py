"""Which company a person belongs to: free-mail providers, and company names compared fairly."""

from __future__ import annotations

import re
import unicodedata

# Consumer mail providers: an address there says nothing about the person's company, so no
# account is made or matched from it. Compared against the registrable domain, so regional
# variants (yahoo.co.uk, outlook.de) are listed where the provider uses them.
FREE_MAIL = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "yahoo.de",
        "yahoo.es",
        "yahoo.it",
        "yahoo.ca",
        "yahoo.com.au",
        "yahoo.co.in",
        "yahoo.co.jp",
        "ymail.com",
        "rocketmail.com",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "hotmail.de",
        "hotmail.it",
        "hotmail.es",
        "outlook.com",
        "outlook.de",
        "outlook.fr",
        "outlook.es",
        "live.com",
        "live.co.uk",
        "live.fr",
        "live.de",
        "msn.com",
        "aol.com",
        "aol.co.uk",
        "aim.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "proton.me",
        "protonmail.com",
        "protonmail.ch",
        "pm.me",
        "tutanota.com",
        "tuta.io",
        "zoho.com",
        "zohomail.com",
        "gmx.de",
        "gmx.net",
        "gmx.com",
        "gmx.at",
        "gmx.ch",
        "web.de",
        "t-online.de",
        "freenet.de",
        "mail.com",
        "email.com",
        "yandex.ru",
        "yandex.com",
        "mail.ru",
        "bk.ru",
        "inbox.ru",
        "list.ru",
        "rambler.ru",
        "qq.com",
        "163.com",
        "126.com",
        "sina.com",
        "naver.com",
        "daum.net",
        "hanmail.net",
        "orange.fr",
        "wanadoo.fr",
        "free.fr",
        "laposte.net",
        "sfr.fr",
        "libero.it",
        "virgilio.it",
        "tiscali.it",
        "alice.it",
        "seznam.cz",
        "wp.pl",
        "o2.pl",
        "interia.pl",
        "onet.pl",
        "btinternet.com",
        "sky.com",
        "virginmedia.com",
        "comcast.net",
        "verizon.net",
        "att.net",
        "sbcglobal.net",
        "bellsouth.net",
        "cox.net",
        "charter.net",
        "earthlink.net",
        "rediffmail.com",
        "fastmail.com",
        "fastmail.fm",
        "hey.com",
        "duck.com",
        "mailbox.org",
        "posteo.de",
        "bluewin.ch",
        "telenet.be",
        "skynet.be",
        "ziggo.nl",
        "kpnmail.nl",
        "planet.nl",
        "home.nl",
        "shaw.ca",
        "rogers.com",
        "sympatico.ca",
        "bigpond.com",
        "optusnet.com.au",
    ]
)

# Legal forms and filler words that say nothing about which company it is.
_LEGAL_FORMS = frozenset(
    [
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "llc",
        "llp",
        "lp",
        "ltd",
        "limited",
        "plc",
        "gmbh",
        "mbh",
        "ag",
        "kg",
        "kgaa",
        "ug",
        "ohg",
        "sa",
        "sas",
        "sarl",
        "sasu",
        "sl",
        "sau",
        "srl",
        "spa",
        "bv",
        "nv",
        "vof",
        "oy",
        "oyj",
        "ab",
        "as",
        "asa",
        "aps",
        "a/s",
        "kk",
        "pte",
        "pty",
        "pvt",
        "sdn",
        "bhd",
        "se",
        "group",
        "holding",
        "holdings",
        "the",
    ]
)
_WORDS = re.compile(r"[a-z0-9]+")


def is_free_mail(domain: str | None) -> bool:
    """True for a consumer mail provider's domain (or one of its subdomains)."""
    if not domain:
        return False
    parts = domain.lower().split(".")
    return any(".".join(parts[k:]) in FREE_MAIL for k in range(len(parts) - 1))


def normalised_name(name: str | None) -> str:
    """A company name compared fairly: `Acme, Inc.` and `ACME GmbH` both give `acme`."""
    if not name:
        return ""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = ascii_text.lower().replace("&", " and ")
    words = [w for w in _WORDS.findall(text) if w not in _LEGAL_FORMS]
    return " ".join(words)
