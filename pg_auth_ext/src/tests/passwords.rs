

#[pg_test]
fn passwords_are_stored_as_bcrypt_at_the_configured_cost() {
    configure();
    let stored = text("select password from auth.user where username = 'demo'").unwrap();
    assert!(stored.starts_with("$2a$10$"), "{stored}");
    assert!(boolean("select auth.verify_password('demo', password) from auth.user"));
    assert!(!boolean("select auth.verify_password('Demo', password) from auth.user"));
}

#[pg_test]
fn pgcrypto_hashes_keep_working_and_are_upgraded_at_login() {
    configure();
    sql("create extension if not exists pgcrypto");
    // As the seed stored them: crypt(pass, gen_salt('bf')), cost 6, $2a$.
    sql("alter table auth.user disable trigger encrypt_pass");
    sql("update auth.user set password = crypt('legacy', gen_salt('bf')) where username = 'demo'");
    sql("alter table auth.user enable trigger encrypt_pass");
    assert!(text("select password from auth.user").unwrap().starts_with("$2a$06$"));
    sql("select auth.login('demo', 'legacy')");
    let upgraded = text("select password from auth.user").unwrap();
    assert!(upgraded.starts_with("$2a$10$"), "{upgraded}");
    // pgcrypto verifies our hashes too.
    assert!(boolean("select crypt('legacy', password) = password from auth.user"));
}

#[pg_test]
fn importing_an_existing_hash_keeps_it() {
    configure();
    sql("create extension if not exists pgcrypto");
    let hash = text("select crypt('imported', gen_salt('bf', 8))").unwrap();
    sql(&format!("insert into auth.user values ('imported', {}, 'basic_subscriber')", literal(&hash)));
    assert_eq!(text("select password from auth.user where username = 'imported'"), Some(hash));
}

#[pg_test(error = "password must not be empty")]
fn empty_passwords_are_refused() {
    configure();
    sql("insert into auth.user values ('empty', '', 'basic_subscriber')");
}

#[pg_test(error = "password is 73 bytes long; bcrypt uses at most 72 bytes and longer passwords are refused rather than silently truncated")]
fn long_passwords_are_refused() {
    configure();
    sql(&format!("insert into auth.user values ('long', '{}', 'basic_subscriber')", "x".repeat(73)));
}

#[pg_test(error = "unknown database role: no_such_role")]
fn user_roles_must_exist() {
    sql("insert into auth.user values ('someone', 'pw', 'no_such_role')");
}

#[pg_test]
fn rehash_follows_the_cost_setting() {
    configure();
    sql("set pg_auth.bcrypt_cost = 11");
    assert!(boolean("select auth.password_needs_rehash(password) from auth.user"));
    sql("set pg_auth.bcrypt_cost = 10");
    assert!(!boolean("select auth.password_needs_rehash(password) from auth.user"));
}
