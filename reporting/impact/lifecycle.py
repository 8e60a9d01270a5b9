"""An impact report version's two lifecycles, declared once (see ``governance.lifecycle``).

Building and publishing are separate machines on the same row:

- the build (``status``): queued → running → ready | failed, driven by the portal itself (the
  workers). A worker takes a queued version (no event: the build's outcome has one), takes
  over a running one whose worker fell silent, gives it back to the queue after a temporary
  problem, and saves it built or records why it failed. The claim's token (``attempts``) and
  the compare-and-set updates in ``services`` keep two workers from both building it.
- publication (``publication``): unpublished → published → withdrawn (by hand, or replaced when
  a newer version is published), and a withdrawn version may be published again. Only a built
  version with nothing private in it is published (``services.report_version_publish``).

Both check ``reporting.manage_impact_report`` on the version's report.
"""

from __future__ import annotations

from awards.models import DocumentStatus
from governance.lifecycle import Lifecycle, Transition

from ..models import ImpactReport, Publication, ReportVersion

QUEUED, RUNNING, READY, FAILED = DocumentStatus.QUEUED, DocumentStatus.RUNNING, DocumentStatus.READY, DocumentStatus.FAILED
MANAGE = "reporting.manage_impact_report"

# The fields each publication event records, before and after, as it always has.
PUBLICATION_FIELDS = ("published_at", "published_by", "unpublished_at", "unpublished_reason")


def _report(version: ReportVersion) -> ImpactReport:
    return version.report


REPORT_BUILD_LIFECYCLE: Lifecycle[ReportVersion] = Lifecycle(
    name="report_version_build",
    model=ReportVersion,
    states=DocumentStatus,
    thing="report version",
    permission_object=_report,
    transitions=[
        Transition("start", [QUEUED], RUNNING, permission=MANAGE, audit="", verb="started", system=True),
        Transition("resume", [RUNNING], RUNNING, permission=MANAGE, audit="report_version.build_resumed",
                   verb="taken over", system=True),
        Transition("release", [RUNNING], QUEUED, permission=MANAGE, audit="", verb="queued again", system=True),
        Transition("complete", [RUNNING], READY, permission=MANAGE, audit="report_version.built", verb="built",
                   system=True),
        Transition("fail", [QUEUED, RUNNING], FAILED, permission=MANAGE, audit="report_version.build_failed",
                   verb="marked failed", system=True),
    ],
)

REPORT_PUBLICATION_LIFECYCLE: Lifecycle[ReportVersion] = Lifecycle(
    name="report_version_publication",
    model=ReportVersion,
    states=Publication,
    field="publication",
    thing="report version",
    permission_object=_report,
    audit_fields=PUBLICATION_FIELDS,
    transitions=[
        Transition("publish", [Publication.UNPUBLISHED, Publication.WITHDRAWN], Publication.PUBLISHED,
                   permission=MANAGE, audit="report_version.published", verb="published"),
        Transition("withdraw", [Publication.PUBLISHED], Publication.WITHDRAWN, permission=MANAGE,
                   audit="report_version.unpublished", verb="withdrawn"),
        # Publishing a newer version of the report withdraws the one public until then.
        Transition("replace", [Publication.PUBLISHED], Publication.WITHDRAWN, permission=MANAGE,
                   audit="report_version.unpublished", verb="replaced"),
    ],
)
