import pytest
from django.core.exceptions import ValidationError

from governance.models import Organisation, OrganisationKind
from governance.services import EMAIL_TAKEN, ODS_CODE_TAKEN, organisation_create, user_create
from tests.factories.governance import NetworkFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (OrganisationKind.NHS_TRUST, "RH8"),
        (OrganisationKind.FOUNDATION_TRUST, "R0B"),
        (OrganisationKind.NHS_TRUST, "TAD"),
        (OrganisationKind.ICB, "QJK"),
        (OrganisationKind.SUB_ICB, "15N"),
        (OrganisationKind.GP_PRACTICE, "L83001"),
        (OrganisationKind.PRIMARY_CARE_NETWORK, "U12345"),
        (OrganisationKind.UNIVERSITY, "EE133"),
    ],
)
def test_well_formed_ods_codes_are_accepted(kind, code):
    org = organisation_create(actor=None, name="Somewhere", kind=kind, ods_code=code)
    assert org.ods_code == code


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (OrganisationKind.NHS_TRUST, "QJK"),  # an ICB code given to a trust
        (OrganisationKind.NHS_TRUST, "RH8X"),
        (OrganisationKind.ICB, "RH8"),
        (OrganisationKind.GP_PRACTICE, "L8300"),
        (OrganisationKind.PRIMARY_CARE_NETWORK, "X12345"),
        (OrganisationKind.UNIVERSITY, "A!"),
        (OrganisationKind.COMPANY, "<script>"),
    ],
)
def test_malformed_ods_codes_are_refused_with_a_message_on_the_field(kind, code):
    with pytest.raises(ValidationError) as caught:
        organisation_create(actor=None, name="Somewhere", kind=kind, ods_code=code)
    assert "ods_code" in caught.value.message_dict
    assert not Organisation.objects.exists()


def test_ods_codes_are_normalised_to_upper_case_without_spaces():
    org = organisation_create(actor=None, name="Trust", kind=OrganisationKind.NHS_TRUST, ods_code=" rh 8 ")
    assert org.ods_code == "RH8"


def test_a_duplicate_ods_code_is_refused_and_nothing_is_created():
    organisation_create(actor=None, name="First", kind=OrganisationKind.NHS_TRUST, ods_code="RH8")
    with pytest.raises(ValidationError) as caught:
        organisation_create(actor=None, name="Second", kind=OrganisationKind.NHS_TRUST, ods_code="rh8")
    assert caught.value.message_dict["ods_code"] == [ODS_CODE_TAKEN]
    assert Organisation.objects.count() == 1


def test_organisations_without_an_ods_code_may_coexist():
    organisation_create(actor=None, name="A charity", kind=OrganisationKind.CHARITY, charity_number="1234567")
    organisation_create(actor=None, name="A company", kind=OrganisationKind.COMPANY, company_number="01234567")
    assert Organisation.objects.filter(ods_code__isnull=True).count() == 2


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"ods_code": "RH8", "company_number": "01234567"}, "GB-NHS-RH8"),
        ({"company_number": "SC123456"}, "GB-COH-SC123456"),
        ({"charity_number": "1123456"}, "GB-CHC-1123456"),
    ],
)
def test_open_data_identifier_prefers_ods_then_company_then_charity(fields, expected):
    kind = OrganisationKind.NHS_TRUST if "ods_code" in fields else OrganisationKind.COMPANY
    org = organisation_create(actor=None, name="Org", kind=kind, **fields)
    assert org.org_identifier == expected


def test_an_organisation_with_no_registered_number_gets_a_portal_identifier(settings):
    settings.GRANTNAV_PREFIX = "fundportal"
    org = organisation_create(actor=None, name="Patient group", kind=OrganisationKind.CHARITY)
    assert org.org_identifier == f"360G-fundportal-ORG-{org.pk}"


def test_a_network_needs_a_short_name_for_references():
    with pytest.raises(ValidationError) as caught:
        organisation_create(actor=None, name="A network", kind=OrganisationKind.HEALTH_INNOVATION_NETWORK)
    assert "short_name" in caught.value.message_dict


def test_bad_company_and_charity_numbers_are_refused():
    with pytest.raises(ValidationError) as caught:
        organisation_create(actor=None, name="Org", kind=OrganisationKind.COMPANY, company_number="12", charity_number="x")
    assert set(caught.value.message_dict) == {"company_number", "charity_number"}


def test_an_email_already_in_use_is_refused_whatever_its_case():
    UserFactory(email="someone@example.com")
    with pytest.raises(ValidationError) as caught:
        user_create(actor=None, email="Someone@Example.COM", full_name="Another")
    assert caught.value.message_dict["email"] == [EMAIL_TAKEN]


def test_creating_an_organisation_writes_an_audit_event():
    actor = UserFactory(is_superuser=True)
    network = NetworkFactory()
    org = organisation_create(actor=actor, name="Trust", kind=OrganisationKind.NHS_TRUST, ods_code="RA7", network=network)
    from governance.models import AuditEvent

    event = AuditEvent.objects.get(action="organisation.created")
    assert event.target_id == str(org.pk)
    assert event.actor == actor
    assert event.after["ods_code"] == "RA7"
    assert event.after["network"] == network.pk
