from ninja import Router, Schema

from amends.accounts.selectors import staff_profile_of
from amends.core.types import AuthedRequest

router = Router(tags=["me"])


class MeOut(Schema):
    username: str
    role: str
    team: str | None


@router.get("/me", response=MeOut, summary="Who am I")
def me_endpoint(request: AuthedRequest) -> MeOut:
    profile = staff_profile_of(user=request.user)
    return MeOut(
        username=request.user.username,
        role=profile.role,
        team=profile.team.name if profile.team_id and profile.team else None,
    )
