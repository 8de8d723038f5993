#!/usr/bin/env python3
"""Write a Singer stream of Taktile decision-history records for the
benchmark: a SCHEMA for each of three streams, then N RECORDs (about
2.4 KB each, shaped as in taktile-reference.md section 2.4) with a STATE
after every 1,000 of them and after the last.

The output depends only on N and the seed; the records of a run for N
are the first N records of a run for more.  Values vary from record to
record (ids, amounts, names, free text in several scripts, rising
timestamps), so the stream compresses roughly as real decision data
does.

usage: gen_corpus.py N [--seed S] [-o FILE]
"""
import argparse
import json
import re
import sys
import random
import time
import uuid

STATE_EVERY = 1000
START = 1704153600.0        # 2024-01-02T00:00:00Z

# Stream name and its share of the records.
STREAMS = (("decisions", 0.60), ("decisions_eu", 0.25),
           ("decisions_us", 0.15))

FIRST_NAMES = (
    "Anna", "Jürgen", "François", "Zoë", "José", "Søren", "Ólafur",
    "Łukasz", "Agnieszka", "İbrahim", "Chloé", "Mateus", "Ngozi", "Liam",
    "Αλέξανδρος", "Ελένη", "Γιώργος", "Μαρία", "王芳", "李伟", "张敏",
    "陈静", "さくら", "健太", "민준", "Renée", "Björn", "Inês", "Dmitri",
    "Priya", "Emily", "Noah", "Sofía", "Mehmet", "Aoife", "Kalani",
)
LAST_NAMES = (
    "Müller", "Schäfer", "García", "Núñez", "Dubois", "Lefèvre", "Jensen",
    "Kowalski", "Wiśniewska", "Yılmaz", "O'Brien", "Okafor", "Smith",
    "Παπαδόπουλος", "Γεωργίου", "Οικονόμου", "王", "李", "张", "佐藤",
    "鈴木", "김", "Johansson", "Ferreira", "Novák", "Horváth", "Brown",
    "Nguyễn", "Rossi", "Esposito", "Kuznetsov", "Andersson",
)
CITIES = (
    ("München", "DE", "EUR"), ("Köln", "DE", "EUR"), ("Zürich", "CH", "CHF"),
    ("Wien", "AT", "EUR"), ("Αθήνα", "GR", "EUR"),
    ("Θεσσαλονίκη", "GR", "EUR"), ("Kraków", "PL", "PLN"),
    ("Málaga", "ES", "EUR"), ("Lyon", "FR", "EUR"), ("Porto", "PT", "EUR"),
    ("Reykjavík", "IS", "ISK"), ("København", "DK", "DKK"),
    ("New York", "US", "USD"), ("San José", "US", "USD"),
    ("東京", "JP", "JPY"), ("北京", "CN", "CNY"), ("서울", "KR", "KRW"),
    ("São Paulo", "BR", "BRL"), ("İstanbul", "TR", "TRY"),
)
STREETS = (
    "Hauptstraße", "Bahnhofstraße", "Rue de la Paix", "Calle Mayor",
    "Οδός Ερμού", "Λεωφόρος Συγγρού", "ul. Floriańska", "Strøget",
    "Main Street", "Avenida Paulista", "銀座通り", "长安街", "Løvstræde",
)
EMPLOYERS = (
    "Siemens AG", "Bäckerei Groß GmbH", "Société Générale",
    "Ελληνικά Ταχυδρομεία", "株式会社トヨタ", "Acme Corp.", "Café Olé S.L.",
    "self-employed",
    "Universidad de Málaga", "Nordisk Fjer A/S", None,
)
NOTES = (
    "Kunde wünscht Rückruf am Nachmittag.",
    "Αίτηση για δάνειο αυτοκινήτου· ζητά γρήγορη απάντηση.",
    "客户要求提高信用额度，已提供工资单。",
    "Le client préfère être contacté par courriel.",
    "Paid every instalment on time ✅",
    "Second application this month 🤔 check for duplicates",
    "Cliente solicitó \"plan flexible\" de pago.",
    "Address changed recently;\nproof of residence pending.",
    "顧客は繰り上げ返済を希望しています。",
    "Référence : dossier n° 42 — pièces reçues.",
    "",
)
PURPOSES = ("car", "home_improvement", "debt_consolidation", "education",
            "travel", "medical", "electronics", "wedding")
REASONS = ("income_verified", "low_dti", "thin_file", "high_utilisation",
           "recent_inquiries", "stable_employment", "address_mismatch",
           "bureau_clear", "manual_review_requested")
PROVIDERS = (("schufa", "credit_report"), ("experian", "consumer_score"),
             ("crif", "bonima"), ("plaid", "transactions"),
             ("seon", "email_risk"), ("equifax", "credit_file"))
NODE_KINDS = ("validation", "bureau", "fraud", "affordability", "scorecard",
              "rules", "decision")
NODE_TITLES = {
    "validation": "Validate input", "bureau": "Bureau lookup",
    "fraud": "Fraud check", "affordability": "Affordability",
    "scorecard": "Scorecard v3", "rules": "Policy rules",
    "decision": "Final decision",
}
FLOW_SLUGS = ("consumer-loan-de", "credit-card-limit", "bnpl-checkout",
              "sme-onboarding", "auto-finance-gr", "mortgage-pre-check")
MASKABLE = ("request.data.applicant.iban", "request.data.applicant.email",
            "request.data.applicant.phone", "request.data.applicant.tax_id")

# A number is first written as a string holding NUM_MARK and its literal
# text; after json.dumps the quotes and the mark are taken off, so that
# decimals keep every digit (a float would round them to 17).
NUM_MARK = "\x00"
NUM_RE = re.compile(r'"\\u0000([-0-9.eE+]+)"')


def num(text):
    return NUM_MARK + text


class Gen:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.clock = START
        self.flows = [self.make_flow(slug) for slug in FLOW_SLUGS]

    def uuid4(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def make_flow(self, slug):
        rng = self.rng
        versions = []
        for major in range(1, rng.randint(2, 4) + 1):
            versions.append((self.uuid4(), "v%d.%d" % (
                major, rng.randint(0, 12))))
        kinds = rng.sample(NODE_KINDS[:-1], rng.randint(1, 2))
        kinds.append("decision")
        nodes = [(self.uuid4(), k) for k in kinds]
        return {"id": self.uuid4(), "slug": slug, "versions": versions,
                "nodes": nodes}

    def stamp(self, t):
        sec = int(t)
        tm = time.gmtime(sec)
        return "%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00" % (
            tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min,
            tm.tm_sec, int((t - sec) * 1e6))

    def amount(self, lo, hi):
        cents = self.rng.randrange(lo * 100, hi * 100)
        return num("%d.%02d" % divmod(cents, 100))

    def fraction(self, digits=18):
        return num("0.%0*d" % (digits, self.rng.randrange(10 ** digits)))

    def big_int(self):
        rng = self.rng
        r = rng.random()
        if r < 0.6:
            return rng.getrandbits(63)
        if r < 0.8:
            return 2 ** 53 + rng.randrange(1, 10 ** 6)
        if r < 0.95:
            return 2 ** 64 - rng.randrange(1, 10 ** 9)
        return rng.randrange(10 ** 25, 10 ** 30)

    def text(self):
        rng = self.rng
        note = rng.choice(NOTES)
        if rng.random() < 0.3:
            note += " " + rng.choice(NOTES)
        if rng.random() < 0.05:
            note += rng.choice((" 🚗", " 🏠", " 💶", " 📄"))
        return note

    def applicant(self, city):
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        employer = rng.choice(EMPLOYERS)
        return {
            "first_name": first,
            "last_name": last,
            "birth_date": "%04d-%02d-%02d" % (rng.randint(1950, 2004),
                                              rng.randint(1, 12),
                                              rng.randint(1, 28)),
            "email": "%s.%d@example.%s" % (
                rng.choice(("user", "kunde", "client", "pelatis")),
                rng.randrange(10 ** 6), rng.choice(("com", "de", "gr"))),
            "iban": "****",
            "phone": "****",
            "address": {
                "street": "%s %d" % (rng.choice(STREETS),
                                     rng.randint(1, 250)),
                "postal_code": "%05d" % rng.randrange(100000),
                "city": city[0],
                "country": city[1],
            },
            "employment": {
                "employer": employer,
                "monthly_net_income": self.amount(900, 12000),
            },
        }

    def node_data(self, kind, decision, limit):
        rng = self.rng
        if kind == "validation":
            return {"valid": True, "checked_fields": rng.randint(8, 30),
                    "warnings": []}
        if kind == "bureau":
            return {"score": rng.randint(300, 850),
                    "hits": rng.randint(0, 6),
                    "open_accounts": rng.randint(0, 14),
                    "report_ref": self.big_int()}
        if kind == "fraud":
            return {"fraud_score": self.fraction(),
                    "flags": rng.sample(("vpn", "new_device",
                                         "email_age_low", "velocity"),
                                        rng.randint(0, 2))}
        if kind == "affordability":
            return {"disposable_income": self.amount(-500, 6000),
                    "dti_ratio": self.fraction(12),
                    "max_instalment": self.amount(50, 2500)}
        if kind == "scorecard":
            return {"points": rng.randint(200, 900),
                    "band": rng.choice("ABCDE") + str(rng.randint(1, 3)),
                    "pd": self.fraction()}
        if kind == "rules":
            return {"fired": rng.sample(REASONS, rng.randint(0, 3)),
                    "knockout": decision == "decline"}
        return {"decision": decision, "limit": limit}

    def node_results(self, flow, t0, t1, decision, limit, failed):
        nodes = {}
        order = []
        step = (t1 - t0) / len(flow["nodes"])
        t = t0
        for i, (node_id, kind) in enumerate(flow["nodes"]):
            error = failed and i == len(flow["nodes"]) - 1
            nodes[node_id] = {
                "id": node_id,
                "title": NODE_TITLES[kind],
                "data": {} if error else self.node_data(kind, decision,
                                                        limit),
                "tracing": {"start_time": self.stamp(t),
                            "end_time": self.stamp(t + step),
                            "error": error},
            }
            order.append(node_id)
            t += step
        return {"time_ordered": order, "nodes": nodes}

    def external(self, flow, t0):
        rng = self.rng
        out = []
        for _ in range(1 if rng.random() < 0.85 else 2):
            provider, resource = rng.choice(PROVIDERS)
            out.append({
                "id": "%s-%d" % (provider, rng.randrange(10 ** 9)),
                "provider": provider,
                "resource": resource,
                "node_id": flow["nodes"][0][0],
                "response": {"status_code": 200,
                             "score": rng.randint(1, 999),
                             "probability": self.fraction(),
                             "reference": self.big_int()},
                "created_at": self.stamp(t0 + rng.random() * 0.2),
                "from_cache": rng.random() < 0.3,
            })
        return out

    def record(self):
        rng = self.rng
        flow = rng.choice(self.flows)
        version_id, version_name = rng.choice(flow["versions"])
        city = rng.choice(CITIES)
        self.clock += rng.expovariate(1 / 1.5)
        duration = int(rng.lognormvariate(5.5, 0.6)) + 1
        t0 = self.clock
        t1 = t0 + duration / 1000.0
        decision_id = self.uuid4()
        entity_id = "cust-%08d" % rng.randrange(10 ** 8)
        failed = rng.random() < 0.03
        decision = rng.choice(("approve", "approve", "approve", "decline",
                               "refer"))
        limit = self.amount(0, 25000) if decision != "decline" else \
            num("0.00")
        metadata = {"version": version_name, "entity_id": entity_id}
        request = {
            "data": {
                "applicant": self.applicant(city),
                "loan": {"amount": self.amount(200, 50000),
                         "currency": city[2],
                         "term_months": rng.choice((6, 12, 24, 36, 48, 60)),
                         "purpose": rng.choice(PURPOSES)},
                "channel": rng.choice(("web", "app", "branch", "partner")),
                "notes": self.text(),
            },
            "metadata": metadata,
        }
        response_meta = dict(metadata, timestamp=self.stamp(t1),
                             decision_id=decision_id)
        if failed:
            response = {"detail": {"msg": "node '%s' timed out" %
                                   NODE_TITLES[flow["nodes"][-1][1]],
                                   "type": "timeout"},
                        "metadata": response_meta}
        else:
            response = {"data": {
                "decision": decision,
                "limit": limit,
                "interest_rate": num("%d.%03d" % (rng.randint(2, 19),
                                                  rng.randrange(1000))),
                "probability_of_default": self.fraction(),
                "reasons": rng.sample(REASONS, rng.randint(1, 3)),
            }, "metadata": response_meta}
        return {
            "id": decision_id,
            "flow": {"id": flow["id"], "slug": flow["slug"],
                     "version_id": version_id,
                     "version_name": version_name},
            "entity_id": entity_id,
            "is_error": failed,
            "error": {"node_id": flow["nodes"][-1][0],
                      "message": "timed out"} if failed else None,
            "is_sandbox": rng.random() < 0.05,
            "duration_in_milliseconds": duration,
            "start_time": self.stamp(t0),
            "end_time": self.stamp(t1),
            "masked_fields": rng.sample(MASKABLE, rng.randint(1, 2)),
            "request": request,
            "response": response,
            "node_results": self.node_results(flow, t0, t1, decision, limit,
                                              failed),
            "external_resources": self.external(flow, t0)
            if rng.random() < 0.5 else None,
        }

    def stream(self):
        r = self.rng.random()
        for name, share in STREAMS:
            if r < share:
                return name
            r -= share
        return STREAMS[-1][0]


def nullable(kind, fmt=None):
    out = {"type": ["null", kind]}
    if fmt:
        out["format"] = fmt
    return out


def schema():
    string = {"type": "string"}
    stamp = {"type": "string", "format": "date-time"}
    meta = {"type": "object", "properties": {
        "version": nullable("string"), "entity_id": nullable("string"),
        "timestamp": stamp, "decision_id": {"type": "string",
                                            "format": "uuid"}}}
    node = {"type": "object", "properties": {
        "id": {"type": "string", "format": "uuid"},
        "title": nullable("string"),
        "data": {"type": "object"},
        "tracing": {"type": "object", "properties": {
            "start_time": nullable("string", "date-time"),
            "end_time": nullable("string", "date-time"),
            "error": {"type": "boolean"}}}}}
    return {"type": "object", "properties": {
        "id": nullable("string", "uuid"),
        "flow": {"type": "object", "properties": {
            "id": {"type": "string", "format": "uuid"}, "slug": string,
            "version_id": {"type": "string", "format": "uuid"},
            "version_name": string}},
        "entity_id": nullable("string"),
        "is_error": {"type": "boolean"},
        "error": nullable("object"),
        "is_sandbox": {"type": "boolean"},
        "duration_in_milliseconds": nullable("integer"),
        "start_time": nullable("string", "date-time"),
        "end_time": stamp,
        "masked_fields": {"type": "array", "items": string},
        "request": {"type": "object", "properties": {
            "data": {"type": "object"},
            "metadata": {"type": "object", "properties": {
                "version": nullable("string"),
                "entity_id": nullable("string")}}}},
        "response": {"anyOf": [
            {"type": "object", "properties": {
                "detail": {"type": "object"}, "metadata": meta}},
            {"type": "object", "properties": {
                "data": {"type": "object"}, "metadata": meta}}]},
        "node_results": {"type": ["null", "object"], "properties": {
            "time_ordered": {"type": "array",
                             "items": {"type": "string", "format": "uuid"}},
            "nodes": {"type": "object", "additionalProperties": node}}},
        "external_resources": {"type": ["null", "array"], "items": {
            "type": "object", "properties": {
                "id": nullable("string"), "provider": string,
                "resource": string,
                "node_id": {"type": "string", "format": "uuid"},
                "response": {"type": "object"},
                "created_at": nullable("string", "date-time"),
                "from_cache": nullable("boolean")}}},
    }}


def dumps(obj):
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return NUM_RE.sub(r"\1", text)


def generate(n, seed, out):
    gen = Gen(seed)
    body = schema()
    for name, _ in STREAMS:
        out.write(dumps({"type": "SCHEMA", "stream": name, "schema": body,
                         "key_properties": ["id"],
                         "bookmark_properties": ["end_time"]}) + "\n")
    bookmarks = {}
    lines = []
    for i in range(1, n + 1):
        name = gen.stream()
        rec = gen.record()
        bookmarks[name] = {"end_time": rec["end_time"]}
        lines.append(dumps({"type": "RECORD", "stream": name,
                            "record": rec}))
        if i % STATE_EVERY == 0 or i == n:
            lines.append(dumps({"type": "STATE", "value": {
                "bookmarks": dict(bookmarks)}}))
            lines.append("")
            out.write("\n".join(lines))
            lines = []


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("records", type=int, help="how many RECORD messages")
    ap.add_argument("--seed", type=int, default=20240102)
    ap.add_argument("-o", "--output", help="write here, not to stdout")
    args = ap.parse_args()
    if args.records < 0:
        ap.error("the number of records cannot be negative")
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="\n") as f:
            generate(args.records, args.seed, f)
    else:
        out = open(sys.stdout.fileno(), "w", encoding="utf-8",
                   newline="\n", closefd=False)
        generate(args.records, args.seed, out)
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
