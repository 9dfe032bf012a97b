//! [`UserRepository`] in memory.

use async_trait::async_trait;
use portal_auth_domain::{Email, Membership, MembershipStatus, Secret, TenantId, User, UserId};
use portal_auth_ports::{StoreError, StoreResult, UserRecord, UserRepository};

use crate::{MemoryStore, State, StoredUser};

impl State {
    /// A user with memberships ordered by tenant name, then id, as the port
    /// promises. Names compare by code point, as a SQL store's binary
    /// collation does.
    fn record(&self, stored: &StoredUser) -> UserRecord {
        let mut memberships: Vec<Membership> = self
            .memberships
            .iter()
            .filter(|((user, _), _)| *user == stored.user.id)
            .filter_map(|((_, tenant), status)| {
                let tenant = self.tenants.get(tenant)?.clone();
                Some(Membership {
                    tenant,
                    status: *status,
                })
            })
            .collect();
        memberships.sort_by(|a, b| {
            (a.tenant.name.as_str(), a.tenant.id).cmp(&(b.tenant.name.as_str(), b.tenant.id))
        });
        UserRecord {
            user: stored.user.clone(),
            password_hash: Secret::new(stored.password_hash.clone()),
            memberships,
        }
    }

    fn user_mut(&mut self, id: UserId) -> StoreResult<&mut StoredUser> {
        self.users.get_mut(&id).ok_or(StoreError::NotFound)
    }
}

#[async_trait]
impl UserRepository for MemoryStore {
    async fn create_user(&self, user: &User, password_hash: &str) -> StoreResult<()> {
        self.with(|state| {
            if state.users.values().any(|u| u.user.email == user.email) {
                return Err(StoreError::Conflict("user_email"));
            }
            if state.users.contains_key(&user.id) {
                return Err(StoreError::Unavailable("duplicate user id".to_owned()));
            }
            let stored = StoredUser {
                user: user.clone(),
                password_hash: password_hash.to_owned(),
            };
            state.users.insert(user.id, stored);
            Ok(())
        })
    }

    async fn find_user_by_email(&self, email: &Email) -> StoreResult<Option<UserRecord>> {
        self.with(|state| {
            let stored = state.users.values().find(|u| &u.user.email == email);
            Ok(stored.map(|u| state.record(u)))
        })
    }

    async fn find_user_by_id(&self, id: UserId) -> StoreResult<Option<UserRecord>> {
        self.with(|state| Ok(state.users.get(&id).map(|u| state.record(u))))
    }

    async fn set_password_hash(&self, id: UserId, password_hash: &str) -> StoreResult<()> {
        self.with(|state| {
            state.user_mut(id)?.password_hash = password_hash.to_owned();
            Ok(())
        })
    }

    async fn set_disabled(&self, id: UserId, disabled: bool) -> StoreResult<()> {
        self.with(|state| {
            state.user_mut(id)?.user.disabled = disabled;
            Ok(())
        })
    }

    async fn set_membership(
        &self,
        user: UserId,
        tenant: TenantId,
        status: MembershipStatus,
    ) -> StoreResult<()> {
        self.with(|state| {
            state.require_user(user)?;
            state.require_tenant(tenant)?;
            state.memberships.insert((user, tenant), status);
            Ok(())
        })
    }
}
