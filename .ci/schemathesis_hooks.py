"""Schemathesis hooks for .ci/schemathesis (loaded through SCHEMATHESIS_HOOKS).

- Authentication: a demo therapist's API token for the therapist's work (tags referrals,
  training, measurement, feedback), a participant's portal session for the portal, and a demo
  coordinator's API token for the rest (account, organisations, directory, funding, audit), so
  every part gets past its permission checks somewhere. The tokens come from the environment
  (DUURLOOP_THERAPIST_TOKEN, DUURLOOP_PORTAL_TOKEN, DUURLOOP_COORDINATOR_TOKEN), set by the
  script after signing in.
- The questionnaire link's token (DUURLOOP_QUESTIONNAIRE_TOKEN, from the demo's e-mail) for
  `/api/v1/questionnaire/{token}`, so its body is tested beyond the 404 of a made-up token.
- Real ids: path parameters (and the `org` and `person` query parameters) are drawn mostly from
  the demo's records (organisations, offerings, referrals, trajectories, sessions, invoices, …,
  gathered once before the run into the JSON file DUURLOOP_KNOWN_IDS), and sometimes left as
  generated, so the run reaches the handlers' logic and not only their 404.
- The check `api_error_body`: every 4xx answer carries the API's JSON error body
  `{"error": {"code": "…", "message": "…", "fields": {…}}}` (web/error.rs).

Run as a script, for .ci/schemathesis: `link-token OUTBOX KIND` prints the token of the first
link `/KIND/{token}` in the e-mail in the outbox folder; `known-ids BASE` gathers the demo's
ids over the API (with the tokens from the environment) and prints them as JSON.
"""

import email
import json
import os
import pathlib
import re
import sys

import schemathesis
from hypothesis import strategies as st

THERAPIST_TAGS = {"referrals", "training", "measurement", "feedback"}


@schemathesis.auth(refresh_interval=None, retry_on=[])
class DemoTokens:
    def get(self, case, context):
        tags = set(context.operation.tags or [])
        if "portal" in tags:
            return os.environ["DUURLOOP_PORTAL_TOKEN"]
        if tags & THERAPIST_TAGS:
            return os.environ["DUURLOOP_THERAPIST_TOKEN"]
        return os.environ["DUURLOOP_COORDINATOR_TOKEN"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook("map_path_parameters").apply_to(path="/api/v1/questionnaire/{token}")
def questionnaire_token(context, path_parameters):
    return {**path_parameters, "token": os.environ["DUURLOOP_QUESTIONNAIRE_TOKEN"]}


# Which kind of record a path parameter names, by the path segment before it.
SEGMENT_KINDS = {
    "organisations": "organisations",
    "offerings": "offerings",
    "therapists": "therapists",
    "locations": "locations",
    "referrals": "referrals",
    "trajectories": "trajectories",
    "sessions": "sessions",
    "feedback": "feedback",
    "invoices": "invoices",
    "payers": "payers",
    "alerts": "alerts",
    "measurements": "measurements",
    "instruments": "instruments",
    "members": "members",
    "attendance": "trajectories",
    "weeks": "weeks",
}
QUERY_KINDS = {"org": "organisations", "person": "members"}
_known = None


def known_ids():
    global _known
    if _known is None:
        path = os.environ.get("DUURLOOP_KNOWN_IDS")
        _known = json.loads(pathlib.Path(path).read_text()) if path else {}
    return _known


def path_kinds(path):
    """{parameter: kind} for the parameters in an OpenAPI path template."""
    kinds = {}
    segments = path.strip("/").split("/")
    for before, segment in zip([""] + segments, segments):
        if segment.startswith("{") and segment.endswith("}"):
            kind = SEGMENT_KINDS.get(before)
            if kind:
                kinds[segment[1:-1]] = kind
    return kinds


def mostly_known(kind, generated):
    values = known_ids().get(kind) or []
    if not values:
        return st.just(generated)
    # Four in five draws a real id; the rest keep the generated value (unknown ids, odd text).
    return st.one_of(*[st.sampled_from(values)] * 4, st.just(generated))


@schemathesis.hook
def flatmap_path_parameters(context, path_parameters):
    if context.operation is None or not path_parameters:
        return st.just(path_parameters)
    kinds = path_kinds(context.operation.path)
    return st.fixed_dictionaries(
        {
            name: mostly_known(kinds[name], value) if name in kinds else st.just(value)
            for name, value in path_parameters.items()
        }
    )


@schemathesis.hook
def flatmap_query(context, query):
    if context.operation is None or not isinstance(query, dict):
        return st.just(query)
    names = {p.name for p in context.operation.query}
    draws = {name: st.just(value) for name, value in query.items()}
    for name, kind in QUERY_KINDS.items():
        if name in names:
            draws[name] = mostly_known(kind, query.get(name, ""))
    return st.fixed_dictionaries(draws)


@schemathesis.check
def api_error_body(ctx, response, case):
    """A 4xx answer has the JSON error body with string `error.code` and `error.message`."""
    if not 400 <= response.status_code < 500:
        return None
    content_type = response.headers.get("content-type", [""])
    if isinstance(content_type, list):
        content_type = content_type[0] if content_type else ""
    if not content_type.startswith("application/json"):
        raise AssertionError(
            f"{response.status_code} without a JSON body (Content-Type: {content_type or 'none'})"
        )
    try:
        body = json.loads(response.content)
    except ValueError as e:
        raise AssertionError(f"{response.status_code} with a body that is not JSON: {e}") from None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        raise AssertionError(f"{response.status_code} without an `error` object: {body!r}"[:500])
    for key in ("code", "message"):
        if not isinstance(error.get(key), str) or not error.get(key):
            raise AssertionError(f"{response.status_code}: `error.{key}` is not a non-empty string")
    if not isinstance(error.get("fields", {}), dict):
        raise AssertionError(f"{response.status_code}: `error.fields` is not an object")
    return None


def link_token(outbox, kind):
    """The token of the first link `/KIND/{token}` in the `.eml` files in `outbox`, or None."""
    pattern = re.compile("/" + re.escape(kind) + "/([A-Za-z0-9_-]+)")
    for path in sorted(pathlib.Path(outbox).glob("*.eml")):
        for part in email.message_from_bytes(path.read_bytes()).walk():
            if part.get_content_type() == "text/plain":
                match = pattern.search(part.get_payload(decode=True).decode("utf-8", "replace"))
                if match:
                    return match.group(1)
    return None


def gather_known_ids(base):
    """The demo's record ids, by kind, read over the API as the run's users see them.

    The run's own two accounts are left out of `members`: changing their role or removing them
    would end their access for the rest of the run.
    """
    import requests

    def get(token, path):
        r = requests.get(base + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        return r.json() if r.status_code == 200 else None

    coordinator = os.environ["DUURLOOP_COORDINATOR_TOKEN"]
    therapist = os.environ["DUURLOOP_THERAPIST_TOKEN"]
    ids = {kind: set() for kind in set(SEGMENT_KINDS.values())}
    ours = set()
    for token in (coordinator, therapist):
        me = get(token, "/api/v1/me")
        ours.add(me["id"])
        ids["organisations"] |= {m["org_id"] for m in me["memberships"]}
    for org in sorted(ids["organisations"]):
        directory = get(coordinator, f"/api/v1/organisations/{org}/directory") or {}
        for kind in ("therapists", "locations", "offerings"):
            ids[kind] |= {x["id"] for x in directory.get(kind, [])}
        members = get(coordinator, f"/api/v1/organisations/{org}/members") or []
        ids["members"] |= {m["user_id"] for m in members} - ours
        payers = get(coordinator, f"/api/v1/payers?org={org}") or {}
        ids["payers"] |= {p["id"] for p in payers.get("payers", [])}
        invoices = get(coordinator, f"/api/v1/invoices?org={org}") or {}
        ids["invoices"] |= {i["id"] for i in invoices.get("invoices", [])}
    ids["referrals"] |= {r["id"] for r in get(therapist, "/api/v1/referrals") or []}
    ids["alerts"] |= {a["id"] for a in get(therapist, "/api/v1/alerts") or []}
    for offering in sorted(ids["offerings"]):
        group = get(therapist, f"/api/v1/offerings/{offering}/group") or {}
        ids["sessions"] |= {x["id"] for x in group.get("sessions", [])}
        ids["trajectories"] |= {x["trajectory_id"] for x in group.get("participants", [])}
    for trajectory in sorted(ids["trajectories"]):
        m = get(therapist, f"/api/v1/trajectories/{trajectory}/measurements") or {}
        ids["measurements"] |= {x["id"] for x in m.get("measurements", [])}
    # A feedback report to read, change and send (the demo has none).
    for trajectory in sorted(ids["trajectories"])[:1]:
        r = requests.post(
            f"{base}/api/v1/trajectories/{trajectory}/feedback",
            json={"kind": "end"},
            headers={"Authorization": f"Bearer {therapist}"},
            timeout=10,
        )
        if r.status_code == 201:
            ids["feedback"].add(r.json()["id"])
    ids["instruments"] = {"phq9", "gad7", "who5"}
    ids["weeks"] = {str(n) for n in range(1, 13)}
    return {kind: sorted(values) for kind, values in ids.items()}


if __name__ == "__main__" and sys.argv[1:2] == ["link-token"]:
    token = link_token(sys.argv[2], sys.argv[3])
    if token:
        print(token)
elif __name__ == "__main__" and sys.argv[1:2] == ["known-ids"]:
    print(json.dumps(gather_known_ids(sys.argv[2]), indent=1))
