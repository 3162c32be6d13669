//! Organisations, roles and what each role may do (SPEC §1, C1).

use serde::{Deserialize, Serialize};

use crate::Invalid;

/// The kinds of organisation in SPEC §1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    GpPractice,
    TherapistPractice,
    CareGroup,
    Municipality,
    Employer,
    Insurer,
    OtherReferrer,
}

impl OrgKind {
    pub const ALL: [OrgKind; 7] = [
        OrgKind::GpPractice,
        OrgKind::TherapistPractice,
        OrgKind::CareGroup,
        OrgKind::Municipality,
        OrgKind::Employer,
        OrgKind::Insurer,
        OrgKind::OtherReferrer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::GpPractice => "gp_practice",
            OrgKind::TherapistPractice => "therapist_practice",
            OrgKind::CareGroup => "care_group",
            OrgKind::Municipality => "municipality",
            OrgKind::Employer => "employer",
            OrgKind::Insurer => "insurer",
            OrgKind::OtherReferrer => "other_referrer",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(Invalid::new("invalid-org-kind"))
    }
}

/// A person's role inside one organisation. Instance administration is not a membership role
/// but a flag on the account (`admin`), because it is not tied to an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Coordinator,
    Therapist,
    Referrer,
    Funder,
    Participant,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Coordinator,
        Role::Therapist,
        Role::Referrer,
        Role::Funder,
        Role::Participant,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Coordinator => "coordinator",
            Role::Therapist => "therapist",
            Role::Referrer => "referrer",
            Role::Funder => "funder",
            Role::Participant => "participant",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or(Invalid::new("invalid-role"))
    }

    /// Roles that can open participant records must use a second factor (SPEC C1).
    /// Participants see only themselves and funders see only aggregates, so they are excepted.
    pub fn requires_second_factor(self) -> bool {
        matches!(self, Role::Coordinator | Role::Therapist | Role::Referrer)
    }
}

/// One membership: a role in an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Membership {
    pub org_id: String,
    pub role: Role,
}

/// Whether an account with these memberships (and admin flag) must enrol and use TOTP.
pub fn second_factor_required(is_admin: bool, memberships: &[Membership]) -> bool {
    is_admin || memberships.iter().any(|m| m.role.requires_second_factor())
}

/// A coordinator manages the members of their own organisation and nothing else; the instance
/// administrator manages every organisation.
pub fn can_manage_members(is_admin: bool, memberships: &[Membership], org_id: &str) -> bool {
    is_admin
        || memberships
            .iter()
            .any(|m| m.org_id == org_id && m.role == Role::Coordinator)
}

/// The audit log of an organisation is for its coordinators (and the administrator).
pub fn can_review_audit(is_admin: bool, memberships: &[Membership], org_id: &str) -> bool {
    can_manage_members(is_admin, memberships, org_id)
}

/// What a personal API token may do (ASVS 3.5.2), chosen when it is made.
///
/// The rule is by HTTP method, so it holds for every route without a list to keep up to date:
/// a `read` token may only use the safe methods (GET, HEAD), which in Duurloop never change a
/// record; `read-write` may do whatever its owner may. Reads are still audit-logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TokenScope {
    #[serde(rename = "read")]
    Read,
    #[serde(rename = "read-write")]
    ReadWrite,
}

impl TokenScope {
    pub const ALL: [TokenScope; 2] = [TokenScope::Read, TokenScope::ReadWrite];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::ReadWrite => "read-write",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(Invalid::new("invalid-token-scope"))
    }

    /// Whether a request with this method may go ahead; `safe` is true for GET and HEAD.
    pub fn allows(self, safe: bool) -> bool {
        safe || self == TokenScope::ReadWrite
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(org: &str, role: Role) -> Membership {
        Membership {
            org_id: org.into(),
            role,
        }
    }

    #[test]
    fn roles_and_kinds_round_trip_through_their_names() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Ok(r));
        }
        for k in OrgKind::ALL {
            assert_eq!(OrgKind::parse(k.as_str()), Ok(k));
        }
        assert!(Role::parse("admin").is_err());
        assert!(OrgKind::parse("hospital").is_err());
    }

    #[test]
    fn roles_that_open_participant_records_need_a_second_factor() {
        assert!(second_factor_required(true, &[]));
        assert!(second_factor_required(false, &[m("a", Role::Referrer)]));
        assert!(second_factor_required(false, &[m("a", Role::Therapist)]));
        assert!(second_factor_required(false, &[m("a", Role::Coordinator)]));
        assert!(!second_factor_required(false, &[m("a", Role::Funder)]));
        assert!(!second_factor_required(false, &[m("a", Role::Participant)]));
        assert!(second_factor_required(
            false,
            &[m("a", Role::Funder), m("b", Role::Therapist)]
        ));
    }

    #[test]
    fn a_coordinator_manages_only_their_own_organisation() {
        let mine = [m("a", Role::Coordinator), m("b", Role::Therapist)];
        assert!(can_manage_members(false, &mine, "a"));
        assert!(!can_manage_members(false, &mine, "b"));
        assert!(!can_manage_members(false, &mine, "c"));
        assert!(can_manage_members(true, &[], "c"));
    }

    #[test]
    fn a_read_token_only_reads_and_scopes_round_trip() {
        for s in TokenScope::ALL {
            assert_eq!(TokenScope::parse(s.as_str()), Ok(s));
            assert!(s.allows(true));
        }
        assert!(!TokenScope::Read.allows(false));
        assert!(TokenScope::ReadWrite.allows(false));
        assert!(TokenScope::parse("write").is_err());
        assert!(TokenScope::parse("").is_err());
    }
}
