//! `tessera-server user …`: user management on the same database as the server, through the
//! same service layer. A running server reads them from the change feed within
//! `--feed-poll` (50 ms by default).
use std::io::BufRead;

use anyhow::{bail, Context};
use tessera_api::Scope;

use crate::config::UserCommand;
use crate::domain::password;
use crate::domain::scope_set::ScopeSet;
use crate::service::{Actor, Service};
use crate::store::{User, UserPatch};

fn parse_permissions(values: &[String]) -> anyhow::Result<ScopeSet> {
    values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(|v| Scope::parse(v).with_context(|| format!("unknown scope `{v}`")))
        .collect()
}

fn clean_zones(values: &[String]) -> Vec<String> {
    values
        .iter()
        .map(|z| z.trim().to_owned())
        .filter(|z| !z.is_empty())
        .collect()
}

/// The password from stdin, or a generated one that is printed.
fn password_from(stdin: bool) -> anyhow::Result<(String, bool)> {
    if stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        let pw = line.trim_end_matches(['\r', '\n']).to_owned();
        if pw.chars().count() < 8 {
            bail!("the password must be at least 8 characters long");
        }
        Ok((pw, false))
    } else {
        Ok((password::generate(), true))
    }
}

pub async fn run(service: &Service, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            username,
            display_name,
            admin,
            permissions,
            zones,
            all_zones,
            password_stdin,
        } => {
            let (pw, generated) = password_from(password_stdin)?;
            let user = User {
                username: username.clone(),
                display_name: display_name.unwrap_or_else(|| username.clone()),
                password_hash: password::hash(&pw)?,
                admin,
                active: true,
                permissions: parse_permissions(&permissions)?,
                zones: clean_zones(&zones),
                all_zones,
            };
            service.add_user(&Actor::cli(), user).await?;
            println!("added user {username}");
            if generated {
                println!("password: {pw}");
            }
        }
        UserCommand::Passwd {
            username,
            password_stdin,
        } => {
            let (pw, generated) = password_from(password_stdin)?;
            let patch = UserPatch {
                password_hash: Some(password::hash(&pw)?),
                ..UserPatch::default()
            };
            service.update_user(&Actor::cli(), &username, patch).await?;
            println!("password changed for {username}");
            if generated {
                println!("password: {pw}");
            }
        }
        UserCommand::Update {
            username,
            permissions,
            zones,
            all_zones,
            admin,
            display_name,
        } => {
            let patch = UserPatch {
                permissions: permissions.as_deref().map(parse_permissions).transpose()?,
                zones: zones.as_deref().map(clean_zones),
                all_zones,
                admin,
                display_name,
                ..UserPatch::default()
            };
            service.update_user(&Actor::cli(), &username, patch).await?;
            println!("updated user {username}");
        }
        UserCommand::Disable { username } => set_active(service, &username, false).await?,
        UserCommand::Enable { username } => set_active(service, &username, true).await?,
        UserCommand::List => {
            println!(
                "{:<24} {:<6} {:<8} {:<24} PERMISSIONS",
                "USERNAME", "ADMIN", "ACTIVE", "ZONES"
            );
            for u in service.users().await? {
                let zones = if u.all_zones {
                    "*".to_owned()
                } else {
                    u.zones.join(",")
                };
                let perms = if u.admin {
                    "(all)".to_owned()
                } else {
                    u.permissions.to_strings().join(",")
                };
                println!(
                    "{:<24} {:<6} {:<8} {:<24} {}",
                    u.username, u.admin, u.active, zones, perms
                );
            }
        }
    }
    Ok(())
}

async fn set_active(service: &Service, username: &str, active: bool) -> anyhow::Result<()> {
    let patch = UserPatch {
        active: Some(active),
        ..UserPatch::default()
    };
    service.update_user(&Actor::cli(), username, patch).await?;
    println!(
        "{} user {username}",
        if active { "enabled" } else { "disabled" }
    );
    Ok(())
}
