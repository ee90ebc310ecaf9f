//! Who is making the request, loaded once per request.

/// A signed-in user of an organization (a member or an org admin).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Member {
    pub id: i32,
    pub organization_id: i32,
    /// An org admin (role `ADMIN`) rather than a member.
    pub admin: bool,
}

impl Member {
    pub fn is_admin(&self) -> bool {
        self.admin
    }
}

/// Who performs a request, as recorded in audit entries.
#[derive(Clone, Debug)]
pub struct Actor {
    pub viewer: Viewer,
    /// The client address (see `auth::client_ip`).
    pub ip: Option<String>,
    /// A task of the server itself (`scheduler`), recorded as `system:<name>`.
    pub system: Option<&'static str>,
}

impl Actor {
    /// The server's own `name` task, acting with platform-wide reach.
    pub fn system(name: &'static str) -> Actor {
        Actor {
            viewer: Viewer::PlatformAdmin {
                subject: format!("system:{name}"),
            },
            ip: None,
            system: Some(name),
        }
    }

    /// The audit `actor_subject`: `system:<name>`, `platform_admin:<sub>`, or none.
    pub fn subject(&self) -> Option<String> {
        match self.system {
            Some(name) => Some(format!("system:{name}")),
            None => self.viewer.actor_subject(),
        }
    }
}

/// The caller of a request. Every permission decision starts from this value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Viewer {
    Anonymous,
    Member(Member),
    /// A platform operator, not tied to a tenant; `subject` is the token's `sub`.
    PlatformAdmin {
        subject: String,
    },
}

impl Viewer {
    pub fn member(&self) -> Option<&Member> {
        match self {
            Viewer::Member(m) => Some(m),
            _ => None,
        }
    }

    pub fn is_platform_admin(&self) -> bool {
        matches!(self, Viewer::PlatformAdmin { .. })
    }

    /// Org admins and platform admins: the roles that may ask for deleted records.
    pub fn is_admin(&self) -> bool {
        match self {
            Viewer::Anonymous => false,
            Viewer::Member(m) => m.is_admin(),
            Viewer::PlatformAdmin { .. } => true,
        }
    }

    /// The user id recorded as the audit actor.
    pub fn actor_user_id(&self) -> Option<i32> {
        self.member().map(|m| m.id)
    }

    /// How an actor without a user row is recorded in the audit log.
    pub fn actor_subject(&self) -> Option<String> {
        match self {
            Viewer::PlatformAdmin { subject } => Some(format!("platform_admin:{subject}")),
            _ => None,
        }
    }

    /// The caller as a metrics and log label, and the rate limit's key for signed-in
    /// callers.
    pub fn label(&self) -> String {
        match self {
            Viewer::Anonymous => "anonymous".to_owned(),
            Viewer::Member(m) => format!("user:{}", m.id),
            Viewer::PlatformAdmin { subject } => format!("platform_admin:{subject}"),
        }
    }
}
