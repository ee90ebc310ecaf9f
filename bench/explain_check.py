#!/usr/bin/env python3
"""Index proof for blogql: every query shape the API issues, with PostgreSQL's plans.

Runs the release server against a loaded database with auto_explain enabled for the
server's own connections only (libpq `options` in the connection URL), sends one GraphQL
request of every shape as platform admin, org admin, member and anonymous, and reads the
plans each request produced from the PostgreSQL server log. Two passes: `custom` plans
(plan_cache_mode=force_custom_plan, what the first executions of a prepared statement
get) and `generic` plans (force_generic_plan, what a prepared statement may switch to
after five executions, as under load). Fails when a plan has a Seq Scan on posts, users
or audit_logs, except for requests explicitly allowed below (the platform-wide count of
users; in the custom pass only, a search for a word found in most posts), or when a request
returns an error; warns about statements
slower than WARN_MS or whose index scan discards WARN_ROWS_REMOVED rows by filter.

Called by bench/explain_check.sh; standard library only.
"""
import argparse
import base64
import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

WATCHED = {"posts", "users", "audit_logs"}
# Not failures, but reported: a statement slower than this, or filtering out this many rows
# after its index scan (an index that does not bound the scan).
WARN_MS = 100.0
WARN_ROWS_REMOVED = 10_000
CALLERS = {"P": "platform admin", "A": "org admin", "M": "member", "N": "anonymous"}


# ---------------------------------------------------------------- helpers

def psql(db, sql):
    out = subprocess.run(
        ["psql", "-X", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql],
        check=True, capture_output=True, text=True,
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def gid(kind, n):
    return base64.b64encode(f"{kind}:{n}".encode()).decode()


def wait_idle(db, limit=300):
    """Waits until no statement of DB is running: a request whose timeout fired may leave its
    statement running in PostgreSQL, and its plan must not be read as the next request's."""
    deadline = time.time() + limit
    while time.time() < deadline:
        busy = psql(db, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
                        "AND state IS DISTINCT FROM 'idle'")[0][0]
        if busy == "0":
            return
        time.sleep(0.2)


def post_json(url, body, token=None, timeout=60):
    data = json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST")
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read() or b"null")
        except ValueError:
            return e.code, None


def find_log_file(db):
    if os.environ.get("PG_LOG_FILE"):
        return os.environ["PG_LOG_FILE"]
    rows = psql(db, "SELECT coalesce(pg_current_logfile('stderr'), ''), current_setting('data_directory'), "
                    "current_setting('server_version_num')")
    current, data_dir, version = rows[0]
    if current:
        return current if current.startswith("/") else os.path.join(data_dir, current)
    major = int(version) // 10000
    # Debian/Ubuntu clusters log stderr to /var/log/postgresql when logging_collector is off.
    candidate = f"/var/log/postgresql/postgresql-{major}-main.log"
    if os.path.exists(candidate):
        return candidate
    sys.exit("cannot find the PostgreSQL server log; set PG_LOG_FILE")


class LogTail:
    """New auto_explain plans of one database since the last read."""

    def __init__(self, path, db):
        self.path, self.db = path, db
        self.offset = os.path.getsize(path)

    def read(self):
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        self.offset += len(data)
        text = data.decode("utf-8", "replace")
        # A log entry is a line not starting with a tab plus its tab-indented continuation.
        entries, current = [], []
        for line in text.split("\n"):
            if line.startswith("\t") and current:
                current.append(line[1:])
            else:
                if current:
                    entries.append("\n".join(current))
                current = [line] if line else []
        if current:
            entries.append("\n".join(current))
        plans = []
        for entry in entries:
            head = entry.split("\n", 1)[0]
            if f"@{self.db} " not in head or "plan:" not in head:
                continue
            m = re.search(r"duration: ([\d.]+) ms\s+plan:", head)
            body = entry.split("plan:", 1)[1]
            try:
                plan = json.loads(body)
            except ValueError:
                continue
            plans.append({"duration_ms": float(m.group(1)) if m else None, "explain": plan})
        return plans


def nodes_of(plan):
    out, stack = [], [plan]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(node.get("Plans", [])))
    return out


def describe(node):
    kind = node.get("Node Type", "?")
    rel = node.get("Relation Name")
    idx = node.get("Index Name")
    text = kind
    if idx:
        text += f" using {idx}"
    if rel:
        text += f" on {rel}"
    return text


def summarize(statement):
    plan = statement["explain"].get("Plan", {})
    nodes = nodes_of(plan)
    access = []
    seq = []
    removed = 0
    for n in nodes:
        if "Scan" in n.get("Node Type", "") or n.get("Node Type") in ("ModifyTable",):
            access.append(describe(n))
        if n.get("Node Type") == "Seq Scan" and n.get("Relation Name") in WATCHED:
            seq.append(n["Relation Name"])
        removed += int(n.get("Rows Removed by Filter", 0) or 0) * max(1, int(n.get("Actual Loops", 1) or 1))
    return {
        "query": statement["explain"].get("Query Text", "").strip(),
        "jit": "JIT" in statement["explain"],
        "duration_ms": statement["duration_ms"],
        "access": access,
        "seq_scans": seq,
        "rows_removed_by_filter": removed,
    }


# ---------------------------------------------------------------- the request shapes

POST = "id databaseId title status viewCount createdAt"
PAGE = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"


VAR_TYPES = {"org": "ID", "after": "String", "before": "String", "t0": "DateTime", "t1": "DateTime",
             "q": "String", "author": "ID", "rec": "Int", "actor": "ID"}


def op(body):
    """`query Q(<the variables body uses>) { body }`: GraphQL rejects unused declarations."""
    used = list(dict.fromkeys(re.findall(r"\$(\w+)", body)))
    decl = ", ".join(f"${v}: {VAR_TYPES[v]}" for v in used)
    return f"query Q({decl}) {{ {body} }}" if decl else f"{{ {body} }}"


def post_list(args, extra=""):
    return op("posts(" + args + ") { " + PAGE + " edges { cursor node { " + POST + extra + " } } }")


ALL_USERS_COUNT = ("an unfiltered count of every user of the platform visits all 50k rows; PostgreSQL's "
                   "cheapest plan for that is a seq scan of the 17 MB table (an index-only scan over a "
                   "partial index is costed higher)")


BROAD = "Falcon"
BROAD_TERM = ("a word in ~2/3 of all posts: only in the custom-plan pass, where PostgreSQL sees the term and "
              "rightly finds reading the table cheaper than reading 2/3 of it through the index; the server "
              "runs generic plans (plan_cache_mode=force_generic_plan), and the generic pass must use the index")


def deep_cursor(ctx, created, ident):
    """A cursor in the middle of the global list: a real cursor with its key and id replaced."""
    raw = cur(ctx, "posts() newest first")
    body = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    body["k"] = {k: created for k in body["k"]} if isinstance(body["k"], dict) else created
    body["i"] = ident
    return base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).decode().rstrip("=")


def cur(ctx, shape):
    """The endCursor the same caller got from an earlier request of `shape`."""
    return ctx[f"cursor:{shape}:{ctx['caller']}"]


def shapes(ids):
    """(name, callers, query, variables(ctx) -> dict, allowed_scan_reason | None)."""
    o = ids
    V = lambda **kw: (lambda ctx: kw)  # noqa: E731  fixed variables
    org = {"org": o["org"]}
    rare, topic = o["rare_term"], o["topic_term"]
    rng = {"org": o["org"], "t0": o["t0"], "t1": o["t1"]}
    s = []

    def lq(template, args):
        return op(template.replace("{args}", args))

    def add(name, callers, query, variables=None, allow=None):
        s.append((name, callers, query, variables or V(), allow))

    # Top-level posts of an organization.
    add("posts(org) newest first", "PAMN", post_list("organizationId: $org, first: 20"), V(**org))
    add("posts(org) status=PUBLISHED", "PMN",
        post_list("organizationId: $org, first: 20, filter: {status: PUBLISHED}"), V(**org))
    add("posts(org) status=DRAFT", "PM",
        post_list("organizationId: $org, first: 20, filter: {status: DRAFT}"), V(**org))
    add("posts(org) authorId", "PMN",
        post_list("organizationId: $org, first: 20, filter: {authorId: $author}"),
        V(org=o["org"], author=o["member"]))
    add("posts(org) createdAfter/Before", "PMN",
        post_list("organizationId: $org, first: 20, filter: {createdAfter: $t0, createdBefore: $t1}"), V(**rng))
    for field, direction in (("VIEW_COUNT", "DESC"), ("TITLE", "ASC"), ("UPDATED_AT", "DESC"), ("CREATED_AT", "ASC")):
        add(f"posts(org) orderBy {field} {direction}", "PMN",
            post_list(f"organizationId: $org, first: 20, orderBy: {{field: {field}, direction: {direction}}}"),
            V(**org))
    add("posts(org) search", "PMN",
        post_list("organizationId: $org, first: 20, filter: {search: $q}"), V(org=o["org"], q=topic))
    add("posts(org) after cursor (page 2)", "PMN",
        post_list("organizationId: $org, first: 20, after: $after"),
        lambda ctx: {"org": o["org"], "after": cur(ctx, "posts(org) newest first")})
    add("posts(org) last/before (backward)", "PMN",
        post_list("organizationId: $org, last: 5, before: $before"),
        lambda ctx: {"org": o["org"], "before": cur(ctx, "posts(org) newest first")})
    add("posts(org) VIEW_COUNT page 2", "PMN",
        post_list("organizationId: $org, first: 20, after: $after, orderBy: {field: VIEW_COUNT, direction: DESC}"),
        lambda ctx: {"org": o["org"], "after": cur(ctx, "posts(org) orderBy VIEW_COUNT DESC")})
    add("posts(org) includeDeleted", "PA",
        post_list("organizationId: $org, first: 20, includeDeleted: true", " deletedAt"), V(**org))
    add("posts(org) totalCount", "PAMN", op("posts(organizationId: $org) { totalCount }"), V(**org))
    add("posts(org) status=PUBLISHED totalCount", "PMN",
        op("posts(organizationId: $org, filter: {status: PUBLISHED}) { totalCount }"), V(**org))
    add("posts(org) search totalCount", "PMN",
        op("posts(organizationId: $org, filter: {search: $q}) { totalCount }"), V(org=o["org"], q=topic))

    # Top-level posts without an organization (everything the caller may see).
    add("posts() newest first", "PMN", post_list("first: 20"))
    add("posts() status=PUBLISHED", "PN", post_list("first: 20, filter: {status: PUBLISHED}"))
    add("posts() deep cursor (page ~25000)", "PN", post_list("first: 20, after: $after"),
        lambda ctx: {"after": deep_cursor(ctx, o["deep_created"], o["deep_id"])})
    add("posts() includeDeleted", "P", post_list("first: 20, includeDeleted: true", " deletedAt"))
    add("posts() totalCount", "PMN", op("posts { totalCount }"))
    add("posts() createdAfter/Before totalCount", "PN",
        op("posts(filter: {createdAfter: $t0, createdBefore: $t1}) { totalCount }"), V(t0=o["t0"], t1=o["t1"]))
    add("posts() createdAfter/Before", "PN",
        post_list("first: 20, filter: {createdAfter: $t0, createdBefore: $t1}"), V(t0=o["t0"], t1=o["t1"]))
    add("posts() authorId", "PN", post_list("first: 20, filter: {authorId: $author}"), V(author=o["member"]))
    for field, direction in (("VIEW_COUNT", "DESC"), ("TITLE", "ASC"), ("UPDATED_AT", "DESC")):
        add(f"posts() orderBy {field} {direction}", "PN",
            post_list(f"first: 20, orderBy: {{field: {field}, direction: {direction}}}"))
    # search and fullText are index-backed (migration 10: pg_trgm GIN on lower(title) and
    # lower(content), GIN on the generated search_vector), for terms of every selectivity:
    # a rare word (~0.1% of posts), a topic (~2%) and a broad word (in ~2/3 of all posts;
    # its custom plan may scan, see BROAD_TERM).
    for label, term in (("rare", rare), ("topic", topic)):
        add(f"posts() search (global, {label})", "PN", post_list("first: 20, filter: {search: $q}"), V(q=term))
        add(f"posts() search totalCount (global, {label})", "PN",
            op("posts(filter: {search: $q}) { totalCount }"), V(q=term))
        add(f"posts() fullText RELEVANCE (global, {label})", "PN",
            post_list("first: 20, filter: {fullText: $q}"), V(q=term))
        add(f"posts() fullText totalCount ({label})", "PN",
            op("posts(filter: {fullText: $q}) { totalCount }"), V(q=term))
    add("posts() search (global, phrase)", "PN", post_list("first: 20, filter: {search: $q}"),
        V(q=f"post {o['post']} by user"))
    add("posts() search (member: own org)", "M", post_list("first: 20, filter: {search: $q}"), V(q=topic))
    add("posts(org) search under 3 characters", "PMN",
        post_list("organizationId: $org, first: 20, filter: {search: $q}"), V(org=o["org"], q="Fa"))
    add("posts() fullText RELEVANCE page 2", "PN", post_list("first: 20, after: $after, filter: {fullText: $q}"),
        lambda ctx: {"q": topic, "after": cur(ctx, "posts() fullText RELEVANCE (global, topic)")})
    add("posts() fullText phrase and exclusion", "PN",
        post_list("first: 20, filter: {fullText: $q}"), V(q=f'"{topic}" -{rare}'))
    add("posts() fullText newest first", "PN",
        post_list("first: 20, orderBy: {field: CREATED_AT, direction: DESC}, filter: {fullText: $q}"), V(q=topic))
    add("posts(org) fullText RELEVANCE", "PMN",
        post_list("organizationId: $org, first: 20, filter: {fullText: $q}"), V(org=o["org"], q=topic))
    add("posts() search (global, broad)", "PN", post_list("first: 20, filter: {search: $q}"),
        V(q=BROAD), allow=BROAD_TERM)
    add("posts() search totalCount (global, broad)", "PN", op("posts(filter: {search: $q}) { totalCount }"),
        V(q=BROAD), allow=BROAD_TERM)
    add("posts() fullText RELEVANCE (global, broad)", "PN", post_list("first: 20, filter: {fullText: $q}"),
        V(q=BROAD), allow=BROAD_TERM)
    add("posts() fullText totalCount (broad)", "PN", op("posts(filter: {fullText: $q}) { totalCount }"),
        V(q=BROAD), allow=BROAD_TERM)

    # Users.
    ul = ("users({args}) { " + PAGE + " edges { cursor node { id username fullName email role isActive "
          "createdAt } } }")
    add("users(org)", "PAM", lq(ul, "organizationId: $org, first: 20"), V(**org))
    add("users(org) orderBy USERNAME", "PAM",
        lq(ul, "organizationId: $org, first: 20, orderBy: {field: USERNAME, direction: ASC}"), V(**org))
    add("users(org) filter role/isActive", "PAM",
        lq(ul, "organizationId: $org, first: 20, filter: {role: ADMIN, isActive: true}"), V(**org))
    add("users(org) after cursor", "PAM", lq(ul, "organizationId: $org, first: 20, after: $after"),
        lambda ctx: {"org": o["org"], "after": cur(ctx, "users(org)")})
    add("users(org) includeDeleted", "PA", lq(ul, "organizationId: $org, first: 20, includeDeleted: true"),
        V(**org))
    add("users() all", "PAM", lq(ul, "first: 20"))
    add("users() orderBy USERNAME", "PA", lq(ul, "first: 20, orderBy: {field: USERNAME, direction: ASC}"))
    add("users(org) totalCount", "PAM", op("users(organizationId: $org) { totalCount }"), V(**org))
    add("users() totalCount (platform-wide)", "P", op("users { totalCount }"), allow=ALL_USERS_COUNT)
    add("users() totalCount (own organization)", "AM", op("users { totalCount }"))

    # Organizations.
    ol = "organizations({args}) { " + PAGE + " edges { cursor node { id name slug } } }"
    add("organizations", "PAMN", lq(ol, "first: 20"))
    add("organizations totalCount", "PAMN", op("organizations { totalCount }"))
    # Anonymous callers cannot filter organizations by plan (a request error since stop 10).
    add("organizations filter plan, orderBy NAME", "P",
        lq(ol, "first: 20, filter: {plan: PRO}, orderBy: {field: NAME, direction: ASC}"))
    add("organization(id)", "PAMN", "query Q($id: ID) { organization(id: $id) { id name slug } }",
        V(id=gid("Organization", o["org"])))
    add("organization(slug)", "PAMN", "query Q($s: String) { organization(slug: $s) { id name slug } }",
        V(s=o["slug"]))

    # Audit log.
    al = ("auditLogs({args}) { " + PAGE + " edges { cursor node { id action tableName recordId oldValues "
          "newValues ipAddress createdAt actorSubject } } }")
    add("auditLogs", "PA", lq(al, "first: 20"))
    add("auditLogs oldest first", "PA", lq(al, "first: 20, orderBy: {direction: ASC}"))
    add("auditLogs tableName+recordId", "PA",
        lq(al, 'first: 20, filter: {tableName: "posts", recordId: $rec}'), V(rec=o["post"]))
    add("auditLogs action+actorId", "PA",
        lq(al, "first: 20, filter: {action: CREATE, actorId: $actor}"), V(actor=o["member"]))
    add("auditLogs actorId", "PA", lq(al, "first: 20, filter: {actorId: $actor}"), V(actor=o["member"]))
    add("auditLogs time range", "PA",
        lq(al, "first: 20, filter: {createdAfter: $t0, createdBefore: $t1}"), V(t0=o["t0"], t1=o["t1"]))
    add("auditLogs after cursor", "PA", lq(al, "first: 20, after: $after"),
        lambda ctx: {"after": cur(ctx, "auditLogs")})
    add("auditLogs totalCount", "PA", op("auditLogs { totalCount }"))
    add("auditLogs actor (loader)", "PA",
        "{ auditLogs(first: 20) { edges { node { id action actor { id username } } } } }")

    # Single reads and Relay nodes.
    add("post(id)", "PMN", "query Q($id: ID!) { post(id: $id) { " + POST + " content } }",
        V(id=gid("Post", o["post"])))
    add("user(id)", "PAM", "query Q($id: ID!) { user(id: $id) { id username email role } }",
        V(id=gid("User", o["member"])))
    add("viewer", "AM", "{ viewer { id username role organization { id name } } }")
    for kind, key in (("Organization", "org"), ("User", "member"), ("Post", "post"), ("AuditLog", "audit")):
        add(f"node({kind})", "PAMN", "query Q($id: ID!) { node(id: $id) { id __typename } }",
            V(id=gid(kind, o[key])))
    add("nodes(4 types)", "PAMN", "query Q($ids: [ID!]!) { nodes(ids: $ids) { id __typename } }",
        V(ids=[gid("Organization", o["org"]), gid("User", o["member"]), gid("Post", o["post"]),
               gid("Post", o["draft"]), gid("AuditLog", o["audit"])]))

    # Nested connections and loaders.
    add("organizations→users→posts (+totalCount)", "PAM",
        "{ organizations(first: 5) { edges { node { name users(first: 10) { totalCount edges { node { username "
        "posts(first: 5) { totalCount edges { node { id title createdAt } } } } } } "
        "posts(first: 3) { totalCount edges { node { id title } } } } } } }")
    add("organization(id)→10 users→5 posts", "PAM",
        "query Q($id: ID) { organization(id: $id) { name users(first: 10) { edges { node { username "
        "posts(first: 5) { edges { node { id title createdAt } } } } } } } }",
        V(id=gid("Organization", o["org"])))
    add("node(Organization)→10 users→5 posts", "PAM",
        "query Q($id: ID!) { node(id: $id) { ... on Organization { name users(first: 10) { edges { node { "
        "username posts(first: 5) { edges { node { id title createdAt } } } } } } } } }",
        V(id=gid("Organization", o["org"])))
    add("organizations→posts→author", "PAMN",
        "{ organizations(first: 10) { edges { node { name slug posts(first: 5) { totalCount edges { node { "
        "id title author { username fullName } } } } } } } }")
    add("organizations→posts filtered/ordered", "PM",
        "{ organizations(first: 5) { edges { node { posts(first: 5, filter: {status: PUBLISHED}, "
        "orderBy: {field: VIEW_COUNT, direction: DESC}) { totalCount edges { node { id viewCount } } } } } } }")
    add("posts→author→organization", "PAM",
        post_list("organizationId: $org, first: 20",
                  " author { id username organization { id name } } organization { id slug }"), V(**org))
    add("posts→author, organization (public)", "N",
        post_list("organizationId: $org, first: 20, filter: {status: PUBLISHED}",
                  " author { username fullName } organization { name slug }"), V(**org))
    add("user(id)→posts (+totalCount)", "PAM",
        "query Q($id: ID!) { user(id: $id) { username organization { name } posts(first: 5, "
        "filter: {status: PUBLISHED}) { totalCount edges { node { id title } } } } }",
        V(id=gid("User", o["member"])))

    # Mutations (net effect on the data set: a few new posts, users, organizations and audit
    # entries; deletes are followed by their restores).
    stamp = str(int(time.time() * 1000))
    content = "Benchmark content. " * 50
    add("createPost (member, self)", "M",
        "mutation M($t: String!, $c: String) { createPost(input: {title: $t, content: $c}) { " + POST + " } }",
        V(t=f"Explain check {stamp}", c=content))
    add("createPost (admin, authorId)", "PA",
        "mutation M($t: String!, $a: ID) { createPost(input: {title: $t, authorId: $a, status: PUBLISHED}) "
        "{ " + POST + " } }", V(t=f"Explain check admin {stamp}", a=o["member"]))
    add("updatePost", "M",
        "mutation M($id: ID!, $t: String) { updatePost(input: {id: $id, title: $t}) { " + POST + " } }",
        lambda ctx: {"id": gid("Post", o["draft"]), "t": f"Edited {time.time()}"})
    add("recordPostView", "PMN", "mutation M($id: ID!) { recordPostView(id: $id) { id viewCount } }",
        V(id=gid("Post", o["post"])))
    add("softDeletePost", "M", "mutation M($id: ID!) { softDeletePost(input: {id: $id}) { id deletedAt } }",
        V(id=gid("Post", o["draft"])))
    add("restorePost", "M", "mutation M($id: ID!) { restorePost(input: {id: $id}) { id deletedAt } }",
        V(id=gid("Post", o["draft"])))
    add("updateUser (own profile)", "M",
        "mutation M($id: ID!, $n: String) { updateUser(input: {id: $id, fullName: $n}) { id fullName } }",
        lambda ctx: {"id": gid("User", o["member"]), "n": f"Member {int(time.time() * 1000) % 100000}"})
    add("softDeleteUser (cascade posts)", "A",
        "mutation M($id: ID!) { softDeleteUser(input: {id: $id}) { id deletedAt } }", V(id=gid("User", o["victim"])))
    add("restoreUser (cascade posts)", "A",
        "mutation M($id: ID!) { restoreUser(input: {id: $id}) { id deletedAt } }", V(id=gid("User", o["victim"])))
    add("softDeleteUser (platform admin)", "P",
        "mutation M($id: ID!) { softDeleteUser(input: {id: $id}) { id deletedAt } }", V(id=gid("User", o["victim"])))
    add("restoreUser (platform admin)", "P",
        "mutation M($id: ID!) { restoreUser(input: {id: $id}) { id deletedAt } }", V(id=gid("User", o["victim"])))
    add("createUser", "A",
        "mutation M($u: String!, $e: String!) { createUser(input: {username: $u, email: $e}) { id username } }",
        lambda ctx: {"u": f"bench_{int(time.time() * 1e6)}", "e": f"bench_{int(time.time() * 1e6)}@example.com"})
    add("createOrganization", "P",
        "mutation M($n: String!, $s: String!) { createOrganization(input: {name: $n, slug: $s}) { id databaseId } }",
        lambda ctx: {"n": f"Bench org {int(time.time() * 1e6)}", "s": f"bench-{int(time.time() * 1e6)}"})
    add("updateOrganization", "P",
        "mutation M($id: ID!) { updateOrganization(input: {id: $id, plan: PRO}) { id plan } }",
        lambda ctx: {"id": ctx["created_org"]})
    add("softDeleteOrganization (cascade ~50 users, ~1000 posts)", "P",
        "mutation M($id: ID!) { softDeleteOrganization(input: {id: $id}) { id deletedAt } }",
        V(id=gid("Organization", o["org2"])))
    add("restoreOrganization (cascade)", "P",
        "mutation M($id: ID!) { restoreOrganization(input: {id: $id}) { id deletedAt } }",
        V(id=gid("Organization", o["org2"])))
    return s


# ---------------------------------------------------------------- ids and server

def pick_ids(db):
    one = lambda sql: psql(db, sql)[0][0]  # noqa: E731
    ids = {}
    ids["org"] = int(one("SELECT id FROM organizations WHERE is_active AND deleted_at IS NULL AND id >= 7 "
                         "ORDER BY id LIMIT 1"))
    org = ids["org"]
    ids["slug"] = one(f"SELECT slug FROM organizations WHERE id = {org}")
    ids["admin"] = int(one(f"SELECT id FROM users WHERE organization_id = {org} AND role = 'admin' AND is_active "
                           f"AND deleted_at IS NULL ORDER BY id LIMIT 1"))
    members = psql(db, f"""
        SELECT u.id FROM users u
        WHERE u.organization_id = {org} AND u.role = 'member' AND u.is_active AND u.deleted_at IS NULL
          AND EXISTS (SELECT 1 FROM posts p WHERE p.user_id = u.id AND p.status = 'draft' AND p.deleted_at IS NULL)
          AND EXISTS (SELECT 1 FROM posts p WHERE p.user_id = u.id AND p.status = 'published' AND p.deleted_at IS NULL)
        ORDER BY u.id LIMIT 2""")
    ids["member"], ids["victim"] = int(members[0][0]), int(members[1][0])
    m = ids["member"]
    # A loaded post (not one an earlier run of this check created), for repeatable runs.
    ids["post"] = int(one(f"SELECT id FROM posts WHERE user_id = {m} AND status = 'published' "
                          f"AND deleted_at IS NULL AND content LIKE 'Post % by user % on %' "
                          f"ORDER BY id DESC LIMIT 1"))
    ids["draft"] = int(one(f"SELECT id FROM posts WHERE user_id = {m} AND status = 'draft' "
                           f"AND deleted_at IS NULL ORDER BY id DESC LIMIT 1"))
    # Search terms (bench/load_data.sh): the rare made-up word and the topic word of the
    # member's post's lead sentence ("Post N by user U on <rare> and <topic>. ...").
    lead = one(f"SELECT split_part(content, '.', 1) FROM posts WHERE id = {ids['post']}").split()
    ids["rare_term"], ids["topic_term"] = lead[-3], lead[-1]
    ids["audit"] = int(one(f"SELECT id FROM audit_logs WHERE organization_id = {org} ORDER BY id LIMIT 1"))
    ids["org2"] = int(one(f"SELECT id FROM organizations WHERE is_active AND deleted_at IS NULL AND id > {org} "
                          f"ORDER BY id LIMIT 1"))
    row = psql(db, "SELECT id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') "
                   "FROM posts WHERE id = (SELECT max(id) / 2 FROM posts)")[0]
    ids["deep_id"], ids["deep_created"] = int(row[0]), row[1]
    now = dt.datetime.now(dt.timezone.utc)
    ids["t0"] = (now - dt.timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ids["t1"] = (now - dt.timedelta(days=200)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return ids


def mint(args, *who):
    return subprocess.run([args.bin, "token", *who, "--jwt-secret", args.secret, "--ttl", "2h"],
                          check=True, capture_output=True, text=True).stdout.strip()


AUTO_EXPLAIN = [
    ("session_preload_libraries", "auto_explain"),
    ("auto_explain.log_min_duration", "0"),
    ("auto_explain.log_analyze", "on"),
    ("auto_explain.log_buffers", "on"),
    ("auto_explain.log_timing", "on"),
    ("auto_explain.log_nested_statements", "on"),
    ("auto_explain.log_format", "json"),
]


def server_url(base, plan_cache_mode):
    opts = AUTO_EXPLAIN + [("plan_cache_mode", plan_cache_mode)]
    options = " ".join(f"-c {k}={v}" for k, v in opts)
    return base + ("&" if "?" in base else "?") + "options=" + urllib.parse.quote(options, safe="")


def start_server(binary, url, listen, secret, log_path):
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [binary, "--database-url", url, "--listen", listen, "--jwt-secret", secret, "--no-migrate",
         "--rate-limit-per-minute", "0", "--rate-limit-anonymous-per-minute", "0", "--log", "warn",
         # Plans of slow shapes (global search) are wanted complete, not cut by the 10 s default.
         "--request-timeout-secs", "300",
         "--db-max-connections", "4"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    for _ in range(300):
        if proc.poll() is not None:
            sys.exit(f"server exited early, see {log_path}")
        try:
            with urllib.request.urlopen(f"http://{listen}/readyz", timeout=2) as r:
                if r.status == 200:
                    return proc
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.1)
    proc.terminate()
    sys.exit("server did not become ready")


def stop_server(proc):
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


# ---------------------------------------------------------------- one pass

def run_pass(args, name, mode, ids, tokens, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    tail = LogTail(args.log_file, args.db)
    proc = start_server(args.bin, server_url(args.database_url, mode), args.listen, args.secret,
                        os.path.join(out_dir, "server.log"))
    endpoint = f"http://{args.listen}/graphql"
    results, ctx, n = [], {}, 0
    try:
        tail.read()  # start-up statements (none expected with --no-migrate)
        for shape, callers, query, variables, allow in shapes(ids):
            if allow is BROAD_TERM and mode != "force_custom_plan":
                allow = None  # the generic plans the server runs must use the index
            for caller in callers:
                n += 1
                ctx["caller"] = caller
                vars_ = variables(ctx)
                started = time.time()
                status, body = post_json(endpoint, {"query": query, "variables": vars_}, tokens.get(caller),
                                         timeout=300)
                elapsed_ms = (time.time() - started) * 1000
                wait_idle(args.db)
                plans = tail.read()
                errors = (body or {}).get("errors") if isinstance(body, dict) else [{"message": f"HTTP {status}"}]
                data = (body or {}).get("data") if isinstance(body, dict) else None
                # Remember cursors and created ids for the chained requests.
                if data:
                    for value in data.values():
                        if isinstance(value, dict) and "pageInfo" in value and value["pageInfo"].get("endCursor"):
                            ctx[f"cursor:{shape}:{caller}"] = value["pageInfo"]["endCursor"]
                    if shape == "createOrganization" and data.get("createOrganization"):
                        ctx["created_org"] = data["createOrganization"]["id"]
                statements = [summarize(p) for p in plans]
                seq = sorted({r for s in statements for r in s["seq_scans"]})
                record = {
                    "n": n, "shape": shape, "caller": CALLERS[caller], "http_status": status,
                    "elapsed_ms": round(elapsed_ms, 1),
                    "data": json.dumps((body or {}).get("data") if isinstance(body, dict) else None)[:2000],
                    "errors": errors, "variables": vars_, "query": query,
                    "statements": statements, "seq_scans": seq, "allowed_scan": allow if seq else None,
                    "plans": [p["explain"] for p in plans],
                }
                results.append(record)
                slug = re.sub(r"[^a-z0-9]+", "_", f"{shape}_{CALLERS[caller]}".lower()).strip("_")
                with open(os.path.join(out_dir, f"{n:03d}_{slug}.json"), "w") as f:
                    json.dump(record, f, indent=1)
    finally:
        stop_server(proc)
    return results


def report(name, results):
    lines = [f"### Pass `{name}`", "",
             "| # | shape | caller | stmts | access paths (posts/users/audit_logs) | max stmt ms | request ms "
             "| rows removed by filter | verdict |",
             "|---|---|---|---|---|---|---|---|---|"]
    failures, warnings = [], []
    for r in results:
        paths = sorted({a for s in r["statements"] for a in s["access"]
                        if any(f" on {t}" in a for t in WATCHED)})
        max_ms = max((s["duration_ms"] or 0 for s in r["statements"]), default=0)
        removed = max((s["rows_removed_by_filter"] for s in r["statements"]), default=0)
        jit = " (JIT)" if any(s["jit"] for s in r["statements"]) else ""
        if r["errors"]:
            verdict = "REQUEST ERROR: " + "; ".join(str(e.get("message")) for e in r["errors"])[:120]
            failures.append(r)
        elif r["seq_scans"] and r["allowed_scan"]:
            verdict = "seq scan ALLOWED (" + ", ".join(r["seq_scans"]) + ")"
        elif r["seq_scans"]:
            verdict = "**SEQ SCAN** " + ", ".join(r["seq_scans"])
            failures.append(r)
        elif removed >= WARN_ROWS_REMOVED or max_ms >= WARN_MS:
            verdict = "ok, WARN: " + ("index does not bound the scan" if removed >= WARN_ROWS_REMOVED
                                      else "slow statement")
            warnings.append(r)
        else:
            verdict = "ok"
        lines.append(f"| {r['n']} | {r['shape']} | {r['caller']} | {len(r['statements'])} | "
                     f"{'<br>'.join(paths) or '-'} | {max_ms:.2f}{jit} | {r['elapsed_ms']:.0f} | {removed} | {verdict} |")
    return lines, failures, warnings


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--listen", default="127.0.0.1:18181")
    ap.add_argument("--out", required=True)
    ap.add_argument("--passes", default="custom,generic")
    args = ap.parse_args()
    args.log_file = find_log_file(args.db)
    os.makedirs(args.out, exist_ok=True)
    ids = pick_ids(args.db)
    tokens = {"P": mint(args, "--platform-admin"), "A": mint(args, "--user", str(ids["admin"])),
              "M": mint(args, "--user", str(ids["member"]))}
    with open(os.path.join(args.out, "ids.json"), "w") as f:
        json.dump(ids, f, indent=1)
    print(f"PostgreSQL log: {args.log_file}")
    print("ids: " + json.dumps(ids))
    all_lines, all_failures, all_warnings, all_allowed = [], [], [], []
    modes = {"custom": "force_custom_plan", "generic": "force_generic_plan"}
    for name in args.passes.split(","):
        results = run_pass(args, name, modes[name], ids, tokens, os.path.join(args.out, name))
        if not any(r["statements"] for r in results):
            sys.exit("no plans were logged: is auto_explain reachable and the log file right?")
        lines, failures, warnings = report(name, results)
        all_lines += lines + [""]
        all_failures += [(name, f) for f in failures]
        all_warnings += [(name, w) for w in warnings]
        all_allowed += [(name, r) for r in results if r["seq_scans"] and r["allowed_scan"] and not r["errors"]]
    scanned = {}
    for name, f in all_failures:
        if f["seq_scans"]:
            entry = scanned.setdefault(f["shape"], {"callers": [], "passes": [], "tables": set()})
            for key, value in (("callers", f["caller"]), ("passes", name)):
                if value not in entry[key]:
                    entry[key].append(value)
            entry["tables"].update(f["seq_scans"])
    summary = ["# blogql explain check", "",
               f"Database `{args.db}`; plans in `{os.path.relpath(args.out)}/<pass>/NNN_<shape>_<caller>.json` "
               "(request, response errors, each statement's EXPLAIN ANALYZE JSON).", ""]
    if scanned:
        summary += ["## Shapes with a Seq Scan", "", "| shape | callers | passes | tables |", "|---|---|---|---|"]
        for shape, e in scanned.items():
            summary.append(f"| {shape} | {', '.join(e['callers'])} | {', '.join(e['passes'])} | "
                           f"{', '.join(sorted(e['tables']))} |")
        summary.append("")
    if all_failures:
        summary += ["## Failures", ""]
        for name, f in all_failures:
            what = ("seq scan on " + ", ".join(f["seq_scans"])) if f["seq_scans"] else "request error"
            summary.append(f"- [{name}] {f['shape']} as {f['caller']}: {what}")
        summary.append("")
    if all_warnings:
        summary += [f"## Warnings (index used, but a statement took >= {WARN_MS:.0f} ms or its index scan "
                    f"filtered out >= {WARN_ROWS_REMOVED} rows)", ""]
        for name, w in all_warnings:
            slowest = max(w["statements"], key=lambda s: s["duration_ms"] or 0)
            summary.append(f"- [{name}] {w['shape']} as {w['caller']}: {slowest['duration_ms']:.1f} ms, "
                           f"{max(s['rows_removed_by_filter'] for s in w['statements'])} rows removed by filter")
        summary.append("")
    if all_allowed:
        summary += ["## Allowed sequential scans", ""]
        for name, r in all_allowed:
            summary.append(f"- [{name}] {r['shape']} as {r['caller']}: {r['allowed_scan']}")
        summary.append("")
    if not all_failures:
        summary += ["All query shapes use indexes (no Seq Scan on posts, users or audit_logs outside "
                    "the allowed shapes above).", ""]
    text = "\n".join(summary + all_lines)
    with open(os.path.join(args.out, "SUMMARY.md"), "w") as f:
        f.write(text + "\n")
    print(text)
    sys.exit(1 if all_failures else 0)


if __name__ == "__main__":
    main()
