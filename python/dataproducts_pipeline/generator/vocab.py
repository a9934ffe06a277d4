"""Word lists and reference distributions of the synthetic world (no logic here)."""

from __future__ import annotations

# --- domains: (name, catalog weight, title topics) -------------------------------------
DOMAINS: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    (
        "data-science",
        1.6,
        (
            "Data Analysis",
            "Applied Statistics",
            "Data Visualization",
            "Data Wrangling with Python",
            "SQL for Data Analysis",
            "Exploratory Data Analysis",
            "A/B Testing",
        ),
    ),
    (
        "machine-learning",
        1.4,
        (
            "Machine Learning",
            "Deep Learning",
            "Natural Language Processing",
            "Computer Vision",
            "Reinforcement Learning",
            "MLOps",
        ),
    ),
    (
        "business",
        1.3,
        (
            "Business Strategy",
            "Project Management",
            "Entrepreneurship",
            "Operations Management",
            "Negotiation",
            "Leadership",
        ),
    ),
    (
        "computer-science",
        1.3,
        (
            "Algorithms",
            "Data Structures",
            "Operating Systems",
            "Programming in Python",
            "Software Engineering",
            "Databases",
        ),
    ),
    (
        "health",
        0.8,
        (
            "Public Health",
            "Nutrition Science",
            "Epidemiology",
            "Anatomy",
            "Mental Health Care",
            "Global Health",
        ),
    ),
    (
        "language-learning",
        0.9,
        (
            "Spanish",
            "English for Career Development",
            "Mandarin Chinese",
            "French",
            "Business English",
            "Academic Writing",
        ),
    ),
    (
        "personal-development",
        0.8,
        (
            "Learning How to Learn",
            "Mindfulness",
            "Public Speaking",
            "Productivity",
            "Career Planning",
            "Emotional Intelligence",
        ),
    ),
    (
        "math",
        0.8,
        (
            "Calculus",
            "Linear Algebra",
            "Probability",
            "Discrete Mathematics",
            "Mathematical Thinking",
            "Differential Equations",
        ),
    ),
    (
        "physics",
        0.5,
        (
            "Classical Mechanics",
            "Quantum Physics",
            "Astrophysics",
            "Thermodynamics",
            "Electromagnetism",
        ),
    ),
    ("arts", 0.5, ("Music Theory", "Photography", "Creative Writing", "Art History", "Drawing")),
    (
        "social-sciences",
        0.6,
        ("Psychology", "Sociology", "Economics", "Political Science", "Behavioral Economics"),
    ),
    (
        "it-support",
        0.7,
        (
            "IT Support",
            "Computer Networking",
            "System Administration",
            "Cloud Computing",
            "Cybersecurity",
        ),
    ),
    (
        "marketing",
        0.7,
        (
            "Digital Marketing",
            "Social Media Marketing",
            "Brand Management",
            "Marketing Analytics",
            "Content Strategy",
        ),
    ),
    (
        "design",
        0.6,
        ("UX Design", "Graphic Design", "Interaction Design", "Game Design", "Design Thinking"),
    ),
    (
        "finance",
        0.8,
        (
            "Financial Markets",
            "Corporate Finance",
            "Accounting",
            "Personal Finance",
            "Investment Management",
        ),
    ),
)

COURSE_SUFFIXES: tuple[str, ...] = (
    "Foundations",
    "Essentials",
    "in Practice",
    "for Everyone",
    "Fundamentals",
    "Masterclass",
    "Crash Course",
    "Deep Dive",
    "Bootcamp",
    "Toolkit",
    "Explained",
    "for Professionals",
)
# Ordered parts of a specialization: first and last are fixed, the middle ones in order.
SPEC_FIRST, SPEC_LAST = "Foundations", "Capstone Project"
SPEC_MIDDLE: tuple[str, ...] = ("Core Methods", "Applied Techniques", "Advanced Topics")

# --- languages: (code, learner share, course share, display name, {country: share}) -----
LANGUAGES: tuple[tuple[str, float, float, str, dict[str, float]], ...] = (
    (
        "en",
        0.65,
        0.80,
        "English",
        {"US": 0.45, "IN": 0.15, "GB": 0.12, "NG": 0.08, "PH": 0.08, "CA": 0.07, "AU": 0.05},
    ),
    ("es", 0.10, 0.06, "Español", {"MX": 0.35, "ES": 0.30, "CO": 0.20, "AR": 0.15}),
    ("pt", 0.06, 0.04, "Português", {"BR": 0.85, "PT": 0.15}),
    ("fr", 0.05, 0.03, "Français", {"FR": 0.70, "BE": 0.10, "SN": 0.10, "CA": 0.10}),
    ("de", 0.04, 0.02, "Deutsch", {"DE": 0.80, "AT": 0.10, "CH": 0.10}),
    ("zh", 0.04, 0.02, "中文", {"CN": 0.80, "TW": 0.20}),
    ("ar", 0.03, 0.015, "العربية", {"EG": 0.40, "SA": 0.35, "MA": 0.25}),
    ("hi", 0.03, 0.015, "हिन्दी", {"IN": 1.0}),
)

TIMEZONES: dict[str, dict[str, float]] = {
    "US": {
        "America/New_York": 0.5,
        "America/Chicago": 0.25,
        "America/Denver": 0.05,
        "America/Los_Angeles": 0.2,
    },
    "IN": {"Asia/Kolkata": 1.0},
    "GB": {"Europe/London": 1.0},
    "NG": {"Africa/Lagos": 1.0},
    "PH": {"Asia/Manila": 1.0},
    "CA": {"America/Toronto": 0.6, "America/Vancouver": 0.4},
    "AU": {"Australia/Sydney": 0.7, "Australia/Perth": 0.3},
    "MX": {"America/Mexico_City": 1.0},
    "ES": {"Europe/Madrid": 1.0},
    "CO": {"America/Bogota": 1.0},
    "AR": {"America/Argentina/Buenos_Aires": 1.0},
    "BR": {"America/Sao_Paulo": 1.0},
    "PT": {"Europe/Lisbon": 1.0},
    "FR": {"Europe/Paris": 1.0},
    "BE": {"Europe/Brussels": 1.0},
    "SN": {"Africa/Dakar": 1.0},
    "DE": {"Europe/Berlin": 1.0},
    "AT": {"Europe/Vienna": 1.0},
    "CH": {"Europe/Zurich": 1.0},
    "CN": {"Asia/Shanghai": 1.0},
    "TW": {"Asia/Taipei": 1.0},
    "EG": {"Africa/Cairo": 1.0},
    "SA": {"Asia/Riyadh": 1.0},
    "MA": {"Africa/Casablanca": 1.0},
}

# First names per language; a few carry apostrophes, accents or non-Latin scripts on
# purpose (rendering and escaping must cope with them).
FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "en": (
        "James",
        "Mary",
        "Olivia",
        "Noah",
        "Emma",
        "Liam",
        "Ava",
        "Priya",
        "Chinedu",
        "Grace",
        "D'Andre",
        "Mei",
        "Aaliyah",
        "Ethan",
        "Sophia",
        "Jack",
        "Chloe",
        "Tunde",
    ),
    "es": (
        "José",
        "María",
        "Lucía",
        "Sofía",
        "Mateo",
        "Santiago",
        "Valentina",
        "Diego",
        "Camila",
        "Alejandro",
    ),
    "pt": ("João", "Ana", "Gabriel", "Beatriz", "Lucas", "Mariana", "Rafael", "Júlia"),
    "fr": ("Léa", "Louis", "Chloé", "Hugo", "Manon", "Gabriel", "Camille", "Aïssatou"),
    "de": ("Lukas", "Anna", "Jonas", "Lea", "Felix", "Sophie", "Jürgen", "Mia"),
    "zh": ("Wei", "Fang", "李娜", "王伟", "Xiaoming", "Jing", "张敏", "Hao"),
    "ar": ("Omar", "Fatima", "Youssef", "Layla", "محمد", "Amira", "Karim", "Nour"),
    "hi": ("Aarav", "Ananya", "Vivaan", "Diya", "अर्जुन", "Ishaan", "Kavya", "Rohan"),
}

ITEM_PHRASES: tuple[str, ...] = (
    "Introduction",
    "Key concepts",
    "A worked example",
    "Common pitfalls",
    "Case study",
    "Hands-on practice",
    "Going further",
    "Review",
    "Putting it together",
    "Core ideas",
    "Tools of the trade",
    "Reading the evidence",
)
ITEM_LABELS: dict[str, str] = {
    "lecture": "Lecture",
    "reading": "Reading",
    "quiz": "Quiz",
    "assignment": "Assignment",
}

# Goals in learners' own words. The last three are hostile on purpose: whatever renders
# goal_text must escape it and must not evaluate templates in it.
GOAL_TEXTS: tuple[str, ...] = (
    "Finish this course before my performance review",
    "Get my first job as a data analyst",
    "Understand the basics well enough to explain them to my team",
    "Pass the certification exam this year",
    "Study 30 minutes every day",
    "Switch careers into tech",
    "Build a portfolio project",
    "Help my kids with their homework",
    "Get a promotion at work",
    "Learn something new after retiring",
    "Prepare for my master's degree",
    'Finally understand "p-values" properly',
    "Complete one module every weekend",
    "Be able to read research papers",
    "Start my own business next spring",
    "Improve my English for interviews",
    "Earn the certificate — for my CV",
    "Keep my brain active",
    "Catch up with my colleagues",
    "Lead data projects at my company",
    "Terminar el curso antes de diciembre",
    "Réussir mon examen",
    "<script>alert(1)</script>",
    "{first_name} {{ 7*7 }}",
    "'; drop table learners; --",
)
