//! The settings table of `settings/mod.rs` is what PostgreSQL knows: every
//! row registered, superuser-only, with its bounds, and no other `pg_auth.*`.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::settings::NAMES;
    use crate::tests::fixtures::*;

    #[pg_test]
    fn every_setting_of_the_table_is_registered_for_superusers_only() {
        let registered = text(
            "select string_agg(name || ':' || context, ' ' order by name) from pg_settings \
             where name like 'pg_auth.%'",
        )
        .unwrap();
        let mut expected: Vec<String> = NAMES
            .iter()
            .map(|name| format!("{}:superuser", name.to_str().unwrap()))
            .collect();
        expected.sort();
        assert_eq!(registered, expected.join(" "));
    }

    #[pg_test]
    fn bounds_and_checks_of_the_table_refuse_values() {
        for (setting, value) in [
            ("pg_auth.trusted_proxy_hops", "11"),
            ("pg_auth.access_token_ttl", "0"),
            ("pg_auth.refresh_token_history", "0"),
            ("pg_auth.access_cookie_name", "'a;b'"),
            ("pg_auth.custom_claims_function", "'unqualified'"),
        ] {
            let error = error_of(&format!("set {setting} = {value}"));
            assert!(
                error.as_deref().is_some_and(|e| e.starts_with("22023")),
                "{setting} = {value}: {error:?}"
            );
        }
        assert_eq!(
            text("show pg_auth.refresh_cookie_path").unwrap(),
            "/rpc/refresh_token"
        );
    }
}
