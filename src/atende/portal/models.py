from django.contrib.auth.hashers import check_password, make_password
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from atende.tenancy.models import Operator, TenantManager


class BeneficiaryLogin(models.Model):
    """A beneficiary's sign-in to an operator's portal. One person (one CPF) may hold
    several logins, e.g. one per contract; each has its own password and e-mail."""

    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="+", verbose_name=_("operator")
    )
    login = models.CharField(
        _("login"),
        max_length=60,
        help_text=_("What tells this login apart from the person's others, e.g. the card number."),
    )
    cpf = models.CharField(_("CPF"), max_length=11)
    # The registry's card this login belongs to (set when the card is loaded and the login
    # is the card's code; logins made before the registry may have none).
    beneficiary = models.ForeignKey(
        "beneficiaries.Beneficiary",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="logins",
        verbose_name=_("card"),
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail address"), blank=True)
    contract_number = models.CharField(_("contract number"), max_length=30, blank=True)
    password = models.CharField(max_length=128)
    # A temporary password the call center had e-mailed (seed 003): its hash, until when it
    # works (once), and whether the person must choose a new password before anything else.
    temporary_password = models.CharField(max_length=128, blank=True, db_default="")
    temporary_until = models.DateTimeField(null=True, blank=True)
    must_change_password = models.BooleanField(default=False, db_default=False)
    is_active = models.BooleanField(_("active"), default=True)
    last_login = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("beneficiary login")
        verbose_name_plural = _("beneficiary logins")
        ordering = ["operator", "cpf", "login"]
        constraints = [
            models.UniqueConstraint(
                "operator",
                Lower("login"),
                name="portal_login_operator_login_unique",
                violation_error_message=_("The operator already has a login with this name."),
            ),
        ]
        indexes = [models.Index(fields=["operator", "cpf"])]

    def __str__(self) -> str:
        return f"{self.login} ({self.name})"

    def set_password(self, raw: str) -> None:
        self.password = make_password(raw)

    def check_password(self, raw: str) -> bool:
        return check_password(raw, self.password)
