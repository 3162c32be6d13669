//! Organisations and their members: created by the administrator, managed by coordinators.

use duurloop_domain::{EmailAddress, OrgKind, OrgName, Role, access::can_manage_members};

use super::{
    Actor, AppError, AppResult, FieldError,
    audit::{Event, record},
};
use crate::{
    mail,
    state::AppState,
    store::{
        self, Conn, new_token,
        orgs::{MemberRow, OrgRow},
        users::{self, PendingInvitation},
    },
};

/// How long an invitation link stays valid.
pub const INVITATION_TTL_MS: i64 = 7 * 24 * 3_600_000;

fn require_manager(actor: &Actor, org_id: &str) -> AppResult<()> {
    if can_manage_members(
        actor.identity.is_admin,
        &actor.identity.domain_memberships(),
        org_id,
    ) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

async fn existing_org(c: &mut Conn, org_id: &str) -> AppResult<OrgRow> {
    store::orgs::by_id(c, org_id)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn create(state: &AppState, actor: &Actor, name: &str, kind: &str) -> AppResult<OrgRow> {
    if !actor.identity.is_admin {
        return Err(AppError::Forbidden);
    }
    let mut errors = Vec::new();
    let name = OrgName::parse(name)
        .map_err(|e| {
            errors.push(FieldError {
                field: "name",
                key: e.key,
            })
        })
        .ok();
    let kind = OrgKind::parse(kind)
        .map_err(|e| {
            errors.push(FieldError {
                field: "kind",
                key: e.key,
            })
        })
        .ok();
    let (Some(name), Some(kind)) = (name, kind) else {
        return Err(AppError::Invalid(errors));
    };
    let now = state.now();
    let mut tx = state.db.begin().await?;
    if store::orgs::by_name(&mut tx, name.as_str())
        .await?
        .is_some()
    {
        return Err(AppError::invalid("name", "org-name-taken"));
    }
    let id = store::orgs::insert(&mut tx, name.as_str(), kind, now).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("create", "organisation").record(&id).org(&id),
    )
    .await?;
    let org = existing_org(&mut tx, &id).await?;
    tx.commit().await?;
    Ok(org)
}

/// The administrator sees every organisation; anyone else the ones they belong to.
pub async fn visible(state: &AppState, actor: &Actor) -> AppResult<Vec<OrgRow>> {
    let mut c = state.db.conn().await?;
    let all = store::orgs::all(&mut c).await?;
    Ok(if actor.identity.is_admin {
        all
    } else {
        all.into_iter()
            .filter(|o| actor.identity.role_in(&o.id).is_some())
            .collect()
    })
}

pub struct OrgDetail {
    pub org: OrgRow,
    pub members: Vec<MemberRow>,
    pub invitations: Vec<PendingInvitation>,
}

/// An organisation with its members and open invitations (people's names and addresses, so
/// the view is audit-logged).
pub async fn detail(state: &AppState, actor: &Actor, org_id: &str) -> AppResult<OrgDetail> {
    require_manager(actor, org_id)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let org = existing_org(&mut tx, org_id).await?;
    let members = store::orgs::members(&mut tx, org_id).await?;
    let invitations = users::pending_invitations(&mut tx, org_id, now).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("read", "members").record(org_id).org(org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(OrgDetail {
        org,
        members,
        invitations,
    })
}

/// Invites a person by e-mail into an organisation with a role.
pub async fn invite(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    email: &str,
    role: &str,
) -> AppResult<String> {
    require_manager(actor, org_id)?;
    let mut errors = Vec::new();
    let email = EmailAddress::parse(email)
        .map_err(|e| {
            errors.push(FieldError {
                field: "email",
                key: e.key,
            })
        })
        .ok();
    let role = Role::parse(role)
        .map_err(|e| {
            errors.push(FieldError {
                field: "role",
                key: e.key,
            })
        })
        .ok();
    let (Some(email), Some(role)) = (email, role) else {
        return Err(AppError::Invalid(errors));
    };
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let org = existing_org(&mut tx, org_id).await?;
    if let Some(u) = users::by_email(&mut tx, email.as_str()).await?
        && users::memberships_of(&mut tx, &u.id)
            .await?
            .iter()
            .any(|m| m.org_id == org_id)
    {
        return Err(AppError::invalid("email", "already-member"));
    }
    let token = new_token();
    let id = users::insert_invitation(
        &mut tx,
        users::NewInvitation {
            token: &token,
            email: email.as_str(),
            org_id,
            role,
            invited_by: &actor.identity.user_id,
            now,
            expires_at: now + INVITATION_TTL_MS,
        },
    )
    .await?;
    let link = format!("{}/invite/{token}", state.config.base_url);
    mail::queue(
        &mut tx,
        state,
        mail::Mail::Invitation {
            link: &link,
            org_name: &org.name,
            role,
            inviter: &actor.identity.name,
        },
        email.as_str(),
        &actor.identity.lang,
    )
    .await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("invite", "invitation").record(&id).org(org_id),
    )
    .await?;
    tx.commit().await?;
    state.mail_wakeup.notify_one();
    Ok(id)
}

/// Refuses a change that would leave an organisation without a coordinator (unless the
/// administrator makes it: they can always repair).
async fn keeps_a_coordinator(
    c: &mut Conn,
    actor: &Actor,
    org_id: &str,
    user_id: &str,
) -> AppResult<()> {
    if actor.identity.is_admin {
        return Ok(());
    }
    let members = store::orgs::members(c, org_id).await?;
    let others = members
        .iter()
        .filter(|m| m.role == Role::Coordinator.as_str() && m.user_id != user_id)
        .count();
    if others == 0 {
        return Err(AppError::Conflict("last-coordinator"));
    }
    Ok(())
}

pub async fn set_role(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    user_id: &str,
    role: &str,
) -> AppResult<()> {
    require_manager(actor, org_id)?;
    let role = Role::parse(role).map_err(|e| AppError::field("role", e))?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    existing_org(&mut tx, org_id).await?;
    if role != Role::Coordinator {
        keeps_a_coordinator(&mut tx, actor, org_id, user_id).await?;
    }
    if !users::set_role(&mut tx, user_id, org_id, role).await? {
        return Err(AppError::NotFound);
    }
    record(
        &mut tx,
        now,
        actor,
        Event::new("update", "membership")
            .record(user_id)
            .subject(user_id)
            .org(org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn remove_member(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    user_id: &str,
) -> AppResult<()> {
    require_manager(actor, org_id)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    existing_org(&mut tx, org_id).await?;
    keeps_a_coordinator(&mut tx, actor, org_id, user_id).await?;
    if !users::remove_membership(&mut tx, user_id, org_id).await? {
        return Err(AppError::NotFound);
    }
    record(
        &mut tx,
        now,
        actor,
        Event::new("delete", "membership")
            .record(user_id)
            .subject(user_id)
            .org(org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Lets the organisation's referrers see each other's referrals (or stops it).
pub async fn set_share_referrals(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    share: bool,
) -> AppResult<()> {
    require_manager(actor, org_id)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    existing_org(&mut tx, org_id).await?;
    store::orgs::set_share_referrals(&mut tx, org_id, share).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("update", "organisation")
            .record(org_id)
            .org(org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
