"""Fixed reference lists the generator draws from (names, regions, categories, weights)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    """A product category: popularity, price range and typical gross margin."""

    name: str
    weight: float
    min_price: float
    max_price: float
    margin: float
    brands: tuple[str, ...]
    nouns: tuple[str, ...]


CATEGORIES: tuple[Category, ...] = (
    Category("Grocery", 0.20, 2.0, 40.0, 0.22,
             ("FreshFarm", "Daily", "GreenLeaf", "Harvest", "Pantry"),
             ("Coffee Beans", "Olive Oil", "Granola", "Tea Selection", "Pasta", "Honey")),
    Category("Clothing", 0.18, 9.0, 220.0, 0.55,
             ("Northwind", "UrbanLine", "Fjord", "Canvas", "Ridge"),
             ("T-Shirt", "Jeans", "Jacket", "Sweater", "Sneakers", "Dress")),
    Category("Home & Garden", 0.13, 12.0, 650.0, 0.40,
             ("Hearth", "Terra", "Nordic Home", "Bloom", "Oakwood"),
             ("Cookware Set", "Lamp", "Planter", "Bedding", "Rug", "Garden Tools")),
    Category("Electronics", 0.12, 25.0, 1600.0, 0.18,
             ("Voltix", "Nimbus", "Auralis", "Pixelon", "Corebyte"),
             ("Headphones", "Smartwatch", "Tablet", "Speaker", "Laptop", "Camera")),
    Category("Beauty", 0.12, 5.0, 120.0, 0.60,
             ("Lumina", "Velvet", "PureSkin", "Aroma", "Glow"),
             ("Moisturiser", "Serum", "Shampoo", "Perfume", "Lipstick", "Sunscreen")),
    Category("Sports", 0.09, 10.0, 450.0, 0.38,
             ("Stride", "Summit", "AquaFit", "Pulse", "Trailhead"),
             ("Running Shoes", "Yoga Mat", "Backpack", "Bike Helmet", "Dumbbells", "Tent")),
    Category("Books", 0.08, 5.0, 60.0, 0.30,
             ("Penhouse", "Inkwell", "Folio", "Marginalia", "Quarto"),
             ("Novel", "Cookbook", "Travel Guide", "Biography", "Art Book", "Workbook")),
    Category("Toys", 0.08, 8.0, 160.0, 0.42,
             ("Playwise", "Tinker", "Brickly", "Jumbo", "Wonder"),
             ("Puzzle", "Board Game", "Building Set", "Plush", "RC Car", "Doll House")),
)  # fmt: skip

PRODUCTS_PER_CATEGORY = 30
MODEL_SUFFIXES = ("Lite", "One", "Classic", "Plus", "Pro", "Max")

REGIONS = ("North", "South", "East", "West", "Central")
REGION_WEIGHTS = (0.22, 0.24, 0.18, 0.21, 0.15)
STORES_PER_REGION = 8

CUSTOMER_SEGMENTS = ("Consumer", "Small Business", "Corporate")
CUSTOMER_SEGMENT_WEIGHTS = (0.72, 0.19, 0.09)

# Birth-year ranges per generation (Pew Research boundaries); customers are adults.
GENERATIONS = (
    ("Gen Z", 1997, 2007, 0.18, 0.55),
    ("Millennial", 1981, 1996, 0.33, 0.45),
    ("Gen X", 1965, 1980, 0.26, 0.27),
    ("Boomer", 1946, 1964, 0.18, 0.12),
    ("Silent", 1928, 1945, 0.05, 0.05),
)
"""(name, first and last birth year, share of customers, probability of preferring the app)"""

CHANNELS = ("online", "in_store", "mobile_app")

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Oliver", "Sophia", "Elijah", "Isabella", "James",
    "Mia", "William", "Amelia", "Benjamin", "Harper", "Lucas", "Evelyn", "Henry", "Abigail",
    "Alexander", "Emily", "Daniel", "Ella", "Mateo", "Aisha", "Wei", "Priya", "Omar", "Yuki",
    "Fatima", "Carlos", "Ingrid", "Kwame", "Lena", "Rafael", "Sofia", "Arjun", "Chloe", "Hugo",
    "Mei", "Tomasz", "Zara", "Jonas", "Nadia", "Diego", "Freya", "Ibrahim", "Hana", "Luca", "Maya",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson",
    "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker",
    "Young", "Allen", "Nguyen", "Khan", "Patel", "Kim", "Muller", "Rossi", "Novak", "Silva",
    "Okafor", "Tanaka", "Larsen", "Dubois", "Kowalski", "Haddad", "Singh", "Chen", "Ivanova",
    "Costa", "Jensen", "Murphy",
)  # fmt: skip
EMAIL_DOMAINS = ("example.com", "mail.example.org", "inbox.example.net", "corp.example.com")

ACCOUNT_STATUSES = ("active", "inactive", "closed")

TICKET_TYPES = ("delivery", "billing", "product_quality", "returns", "account", "technical")
TICKET_TYPE_WEIGHTS = (0.27, 0.18, 0.2, 0.17, 0.1, 0.08)
TICKET_PRIORITIES = ("low", "medium", "high", "urgent")
TICKET_PRIORITY_WEIGHTS = (0.35, 0.4, 0.18, 0.07)
TICKET_MEDIAN_HOURS = (60.0, 30.0, 12.0, 4.0)
TICKET_CHANNELS = ("email", "phone", "chat", "web_form")

INTERACTION_TYPES = ("call", "email", "meeting", "support_ticket", "complaint", "feedback")
INTERACTION_STATUSES = ("pending", "in_progress", "completed", "cancelled")
INTERACTION_CHANNELS = ("phone", "email", "in_person", "chat", "app")

DIGITAL_EVENT_TYPES = ("login", "browse", "search", "add_to_cart", "checkout", "support_chat")
DIGITAL_EVENT_WEIGHTS = (0.3, 0.28, 0.18, 0.12, 0.08, 0.04)

LOYALTY_TIERS = ("Bronze", "Silver", "Gold", "Platinum")
LOYALTY_TIER_MIN_SPEND = (0.0, 400.0, 1200.0, 3000.0)
"""Trailing 12-month spend (noisy) at which each tier starts."""
