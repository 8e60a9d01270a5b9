"""Object permissions for impact reports, as django-rules predicates.

- ``reporting.request_impact_report`` (a Fund): its fund managers (and site admins);
- ``reporting.view_impact_report`` (an ImpactReport): the fund's managers and auditors: every
  version, drafts and failures included;
- ``reporting.manage_impact_report`` (an ImpactReport): the fund's managers: rebuild, retry,
  publish and withdraw.

The public sees published versions only, through ``selectors.public_versions``.
"""

import rules

from governance.rules import audits_fund, is_site_admin, manages_fund


@rules.predicate
def manages_report_fund(user, report) -> bool:
    return report is not None and manages_fund(user, report.fund)


@rules.predicate
def audits_report_fund(user, report) -> bool:
    return report is not None and audits_fund(user, report.fund)


rules.add_perm("reporting.request_impact_report", manages_fund | is_site_admin)
rules.add_perm("reporting.view_impact_report", manages_report_fund | audits_report_fund | is_site_admin)
rules.add_perm("reporting.manage_impact_report", manages_report_fund | is_site_admin)
