"""docs/extension.md "Maintenance and backups": a pg_dump of a database that signs with
key pairs, restored into a fresh cluster by that section's checklist (roles,
server settings with the preload, both key files, pg_restore) and nothing
more. The JWKS PostgREST needs lives in a per-database role setting the dump
does not carry: PostgREST used to refuse every token until someone ran
SELECT auth.publish_jwks(). Now the first token issued publishes it."""

import shutil
import subprocess

import stack as stack_controller
from processes import wait_until
from support.flow import login, refresh
from support.http import request
from support.tokens import header_of


def postgres_tool(name: str) -> str:
    return str(stack_controller.PG_BIN / name)


def connection(cluster) -> list[str]:
    return ["-h", stack_controller.LOOPBACK, "-p", str(cluster.ports["postgres"]), "-U", "postgres"]


def test_a_restore_into_a_fresh_cluster_needs_no_manual_step(tmp_path):
    secret = stack_controller.new_secret()
    with (stack_controller.Stack.scratch("pg-auth-restore-old-", secret, signing="keys") as old,
          stack_controller.Stack.scratch("pg-auth-restore-new-", secret, signing="keys") as new):
        old.start_postgres()
        old.migrate()
        old.start_postgrest()
        before = login(old.postgrest_url)
        assert before.status == 204
        assert header_of(before.cookie_value("access_token"))["alg"] == "ES256"
        roles = tmp_path / "roles.sql"
        dump = tmp_path / "app.dump"
        subprocess.run([postgres_tool("pg_dumpall"), *connection(old), "--roles-only", "-f", str(roles)], check=True)
        subprocess.run([postgres_tool("pg_dump"), *connection(old), "-Fc", "-f", str(dump), "postgres"], check=True)
        old.down()

        # The checklist: both key files (the same contents), the server
        # settings with the preload (stack.py passes them at start), the
        # roles, then pg_restore.
        new.write_key_file()
        shutil.copyfile(old.key_encryption_key_file, new.key_encryption_key_file)
        new.start_postgres()
        new.psql(sql="alter system set pg_auth.signing_mode = 'keys'")
        new.psql(sql="select pg_reload_conf()")
        # ("role postgres already exists" and the like: the usual noise.)
        subprocess.run(["psql", *connection(new), "-q", "-f", str(roles), "postgres"], capture_output=True)
        restored = subprocess.run([postgres_tool("pg_restore"), *connection(new), "-d", "postgres", str(dump)],
                                  capture_output=True, text=True)
        assert restored.returncode == 0, restored.stderr
        assert new.psql(sql="select auth.jwks_is_published()").strip() == "f", "the dump carries no JWKS"
        new.start_postgrest()

        # A refresh cookie from before the dump, then a new login: both work.
        refreshed = refresh(new.postgrest_url, before.cookie_value("refresh_token"))
        assert refreshed.status == 204, refreshed.body
        assert new.psql(sql="select auth.jwks_is_published()").strip() == "t"
        # PostgREST takes the published keys on the notification the refresh
        # committed: its token reads (PostgREST itself, so /task).
        access = refreshed.cookie_value("access_token")

        def reads(token):
            return request("GET", f"{new.postgrest_url}/task", {"Authorization": f"Bearer {token}"}).status == 200

        wait_until(lambda: reads(access), "PostgREST taking the republished keys", new.log("postgrest"), seconds=5)
        fresh = login(new.postgrest_url)
        assert fresh.status == 204
        assert reads(fresh.cookie_value("access_token"))
