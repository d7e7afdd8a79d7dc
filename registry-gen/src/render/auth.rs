//! Authentication files: `auth/htpasswd` (bcrypt, the only hash the
//! distribution registry accepts), the generated passwords, and the
//! registry's HTTP secret, all written 0600.

use crate::bundle::{Bundle, MODE_SECRET};
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::plan::{paths, Plan};

pub(crate) fn render(plan: &Plan, inputs: &Inputs, out: &mut Bundle) -> Result<()> {
    let http_secret = inputs.http_secret.as_ref().ok_or_else(|| Error::Input {
        what: "the HTTP secret (Inputs::http_secret)".into(),
        problem: "is missing: call Inputs::fill_missing, or inject it".into(),
    })?;
    // The registry reads it through REGISTRY_HTTP_SECRET as YAML, as is
    // (a generated secret, `EnvValue::GeneratedSecret`): only a token that
    // YAML reads as itself may be one.
    let token = http_secret.expose();
    if token.len() < 16
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Error::Input {
            what: format!("the HTTP secret ({})", paths::HTTP_SECRET),
            problem: "is not one registry-gen generated (16 or more of A-Z, a-z, 0-9, `-` and `_`): delete the file and render again to generate a new one (the registry's pods then roll once)".into(),
        });
    }
    out.add(
        paths::HTTP_SECRET,
        format!("{}\n", http_secret.expose()),
        MODE_SECRET,
    );

    let Some(auth) = &plan.auth else {
        return Ok(());
    };
    let mut htpasswd = String::new();
    for (i, plan_user) in auth.users.iter().enumerate() {
        let user = &plan_user.name;
        if plan_user.password_file.is_some()
            && inputs.passwords.get(user).is_none_or(|pw| pw.generated)
        {
            // A generated password would not be the one the file holds.
            return Err(Error::Input {
                what: format!("auth.users[{i}].password_file"),
                problem: "was not read: the caller must put the file's first line in Inputs::passwords (Password::given) before rendering".into(),
            });
        }
        let pw = inputs.password(user)?;
        let len = pw.secret.expose().len();
        if len == 0 || len > 72 || pw.secret.expose().contains('\0') {
            return Err(Error::Input {
                what: format!("the password of user {user:?}"),
                problem: format!("is {len} bytes: bcrypt, the only hash the registry accepts, takes 1 to 72 bytes without NUL"),
            });
        }
        let salt = pw.salt.ok_or_else(|| Error::Input {
            what: format!("the bcrypt salt of user {user:?}"),
            problem: "is missing: call Inputs::fill_missing".into(),
        })?;
        let hash = bcrypt::hash_with_salt(pw.secret.expose(), auth.bcrypt_cost, salt)
            .map_err(|e| Error::Input {
                what: format!("the password of user {user:?}"),
                problem: format!("can't be hashed with bcrypt ({e})"),
            })?
            .format_for_version(bcrypt::Version::TwoY);
        htpasswd.push_str(&format!("{user}:{hash}\n"));
        if pw.generated {
            out.add(
                paths::password(user),
                format!("{}\n", pw.secret.expose()),
                MODE_SECRET,
            );
        }
    }
    out.add(paths::HTPASSWD, htpasswd, MODE_SECRET);
    Ok(())
}
