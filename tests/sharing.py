"""People choosing what they share, as they do on the sharing page (social.services)."""

from social import services
from social.models import Audience


def share(person, *, use_for_recommendations: bool = True, **audiences):
    """`person` chooses to share: the defaults offered, with `audiences` (subject=level) instead."""
    chosen = {**services.DEFAULT_AUDIENCES, **audiences}
    return services.sharing_choose(user=person, audiences=chosen, use_for_recommendations=use_for_recommendations)


def share_tagging(person, level: int = Audience.EVERYONE):
    """`person` shows what they tag (their tag index included) to `level`."""
    return share(person, tagged=level)
