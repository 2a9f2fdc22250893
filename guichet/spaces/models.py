"""A person's space (R9; Défenseur des droits 2024, R4): the requests one person holds in one prefecture.

People have no account: a space is made when someone files another procedure from a request they hold
(its private link), and holds the requests filed that way. Whoever holds the link of one of them sees
them all; a request filed by someone else with the same name is never added (names are not secret).
"""

from django.db import models

from guichet.catalog.models import Prefecture
from guichet.waitlist.models import AppointmentRequest


class Space(models.Model):
    prefecture = models.ForeignKey(Prefecture, on_delete=models.PROTECT, related_name="spaces")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"space {self.pk}"


class SpaceRequest(models.Model):
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="members")
    request = models.OneToOneField(AppointmentRequest, on_delete=models.CASCADE, related_name="space_link")

    def __str__(self) -> str:
        return f"{self.request_id} in {self.space_id}"
