"""Demo people for `seed_demo`: deterministic and safe to load twice."""

import random

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password

from .models import User

DEMO_PASSWORD = "plural-demo-2026"  # noqa: S105 - printed for the person trying the demo

FIRST_NAMES = [
    "Amara",
    "Bruno",
    "Chiara",
    "Dmitri",
    "Elif",
    "Farah",
    "Gustav",
    "Hana",
    "Ines",
    "Jonas",
    "Kofi",
    "Lucía",
    "Mateo",
    "Nadia",
    "Oskar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tomasz",
    "Umeko",
    "Valentina",
    "Wiebke",
    "Yusuf",
    "Zofia",
]
LAST_NAMES = [
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Rossi",
    "Nakamura",
    "Haddad",
    "Kowalski",
    "Fernández",
    "van Dijk",
    "Schneider",
    "Mensah",
    "O'Brien",
    "Petrova",
    "Costa",
    "Nielsen",
    "Dubois",
]
PLACES = [
    ("GB", "Bristol"),
    ("DE", "Leipzig"),
    ("FR", "Lyon"),
    ("IT", "Bologna"),
    ("NL", "Utrecht"),
    ("ES", "Valencia"),
    ("PL", "Kraków"),
    ("SE", "Malmö"),
    ("US", "Portland"),
    ("CA", "Halifax"),
    ("JP", "Kyoto"),
    ("GH", "Accra"),
    ("IE", "Galway"),
    ("DK", "Aarhus"),
    ("PT", "Porto"),
]
INTERESTS = [
    "first editions",
    "vintage vinyl",
    "hand-bound notebooks",
    "ceramics",
    "jazz records",
    "botanical prints",
    "crime fiction",
    "letterpress",
    "children's books",
    "film cameras",
    "knitting patterns",
    "sci-fi paperbacks",
    "maps and atlases",
    "folk music",
]


def seed_people(*, rng: random.Random, count: int = 24) -> list[User]:
    # One hash for every demo person: hashing is deliberately slow.
    password_hash = make_password(DEMO_PASSWORD)
    people = []
    for index in range(count):
        first = FIRST_NAMES[index % len(FIRST_NAMES)]
        last = rng.choice(LAST_NAMES)
        country, city = rng.choice(PLACES)
        liked = rng.sample(INTERESTS, 2)
        username = f"{first.lower()}{index + 1}"
        user, _ = User.objects.get_or_create(
            username=username,
            defaults={
                "email": f"{username}@example.com",
                "display_name": f"{first} {last}",
                "bio": f"Collector of {liked[0]} and {liked[1]}, based in {city}.",
                "country": country,
                "city": city,
                "password": password_hash,
            },
        )
        EmailAddress.objects.get_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
        people.append(user)
    return people
