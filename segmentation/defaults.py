"""A starting point for a new model: one rule per standard signal kind, the usual buying group."""

# (kind, points, half-life in days, cap): first-party intent decays fast, company events slowly.
STANDARD_SIGNAL_RULES = [
    {"kind": "web_visit", "points": 2, "half_life_days": 14, "max_points": 20},
    {"kind": "content_download", "points": 6, "half_life_days": 30, "max_points": 24},
    {"kind": "email_click", "points": 2, "half_life_days": 14, "max_points": 10},
    {"kind": "event_attended", "points": 10, "half_life_days": 45, "max_points": 20},
    {"kind": "meeting", "points": 15, "half_life_days": 30, "max_points": 30},
    {"kind": "intent_surge", "points": 12, "half_life_days": 21, "max_points": 24},
    {"kind": "job_posting", "points": 3, "half_life_days": 60, "max_points": 9},
    {"kind": "funding_round", "points": 15, "half_life_days": 90, "max_points": 15},
    {"kind": "tech_install", "points": 8, "half_life_days": 120, "max_points": 16},
    {"kind": "leadership_change", "points": 8, "half_life_days": 60, "max_points": 8},
]
STANDARD_PERSONAS = ["economic_buyer", "champion", "technical_evaluator"]
