"""The model's vocabulary: the powers, the dimensions of security, the partnership tiers and the state paths.

Every module takes these names from here, so that each is stated once.
"""

POWERS = ("US", "CN", "RU")
DIMENSIONS = ("regime", "territory", "prosperity")
# Vietnam's partnership tiers, lowest first (002); "alliance" lies above the top tier and is
# ruled out while the Four No's are in force. Each name but "none" is also a threshold parameter.
TIERS = ("none", "comprehensive", "strategic", "comprehensive_strategic", "alliance")
THRESHOLD_TIERS = TIERS[1:]
# The agents' state an event may push once (an impulse), as <path>.<power>: e.g. courtship.RU.
STATE_PATHS = ("alignment", "courtship", "coercion", "engagement")
