"""Benchmark: local matching of many saved searches against many posts.

`run()` generates realistic saved searches (the ICO's own, and comms-team style
boolean searches with phrases, hashtags, NEAR, wildcards, field operators and
watch lists) and posts (mostly everyday chatter, some relevant), then times the
prefiltered `Matcher.match` over every post and the unfiltered
`match_unfiltered` over a sample, and checks both give the same answers on the
sample. Both timings pause the cyclic garbage collector, as `timeit` does.
Figures are returned, never asserted (DESIGN.md, performance targets).
"""

import gc
import random
import time

from listening.posts import Post
from listening.query import parse
from listening.query.matcher import Matcher

ICO_SEARCHES = [
    "to:commissioner",
    '"the ICO"',
    "links:ico.org.uk",
    '"ICO registration letter" OR "data protection fee"',
    'list:"tech journalists" (#journorequest OR journorequest OR journorequests OR "PR request" OR #PRRequest '
    'OR "DMs open" OR "get in touch" OR "data protection" OR GDPR OR FOI OR privacy)',
]

ORGANISATIONS = [
    "NHS England", "DVLA", "HMRC", "Ofcom", "Home Office", "DWP", "Met Police", "Kent County Council",
    "Leeds City Council", "Transport for London", "Ofsted", "Companies House", "Land Registry", "Border Force",
    "Environment Agency", "Natural England", "Royal Mail", "Network Rail", "Highways England", "Cabinet Office",
    "Birmingham City Council", "Glasgow City Council", "Cardiff Council", "Belfast City Council", "NHS Scotland",
]
TOPICS = [
    "data breach", "subject access", "freedom of information", "FOI request", "cyber attack", "ransomware",
    "privacy notice", "cookie banner", "facial recognition", "CCTV", "nuisance calls", "spam texts",
    "data sharing", "children's code", "age assurance", "biometric data", "personal data", "data protection",
    "information request", "internal review", "right to erasure", "direct marketing", "lost laptop",
]
WILDCARDS = ["leak*", "hack*", "breach*", "surveil*", "journo*", "organi?ation", "complain*", "fine*", "regulat*"]
HASHTAGS = ["#GDPR", "#privacy", "#dataprotection", "#FOI", "#cybersecurity", "#infosec", "#AI", "#journorequest"]
HANDLES = [
    "ICOnews", "commissioner", "bbcnews", "guardiantech", "wiredUK", "techcrunch", "openrightsgroup",
    "bigbrotherwatch", "foi_man", "mysociety", "whatdotheyknow", "dvla", "hmrcgovuk", "nhsengland", "metpolice",
]
DOMAINS = ["ico.org.uk", "gov.uk", "bbc.co.uk", "theguardian.com", "whatdotheyknow.com", "nhs.uk", "parliament.uk"]
LIST_NAMES = ["tech journalists", "FOI campaigners", "MPs", "privacy advocates"]

CHATTER = (
    "just got back from the shops and the queue was unreal honestly cannot believe how busy it gets on a saturday "
    "anyone else watching the match tonight what a goal that was absolutely brilliant scenes "
    "new recipe for lemon drizzle cake turned out lovely will share the photos later "
    "traffic on the motorway again forty minutes to go two miles not impressed "
    "morning everyone coffee first then emails then maybe a walk if the rain holds off "
    "thread on the best walks in the peak district bring proper boots and a flask "
    "the new album is on repeat every single track is a banger "
    "kids back to school next week where did the summer go "
    "garden looking great after all that sun the tomatoes are finally ripening "
    "train cancelled again third time this week absolute joke "
    "loving this weather perfect for a barbecue with friends and family "
    "does anyone know a good plumber in the area leaking tap driving me mad "
    "podcast recommendation please long drive tomorrow need something good "
    "my cat knocked the plant off the windowsill again no regrets apparently "
    "finished the book last night that ending though still thinking about it "
).split()
RELEVANT = (
    "the ICO has fined the company over a serious data breach affecting thousands of customers "
    "submitted an FOI request to the council three months ago and still no response overdue again "
    "worried about facial recognition cameras in the high street who regulates this "
    "got a letter about the data protection fee is this a scam or the real ICO registration letter "
    "journalists looking for case studies on nuisance calls and spam texts DMs open "
    "the information commissioner published new guidance on age assurance and the children's code "
    "subject access request ignored for weeks going to complain to the regulator "
    "ransomware attack at the hospital trust patient records may have been leaked "
    "privacy notice on the new app is vague about data sharing with third parties "
    "internal review of my freedom of information request was refused under section twelve "
).split()
EMOJI = ["😀", "🙄", "🔥", "👏", "😡", "🤔", "📢", "✅"]


def generate_searches(rng: random.Random, count: int) -> list[str]:
    searches = list(ICO_SEARCHES[:count])
    patterns = [
        lambda: f'"{rng.choice(ORGANISATIONS)}" ("{rng.choice(TOPICS)}" OR {rng.choice(WILDCARDS)} OR hacked)',
        lambda: f'"{rng.choice(TOPICS)}" NEAR/5 (ICO OR "information commissioner" OR regulator)',
        lambda: f'{rng.choice(HASHTAGS)} OR "{rng.choice(TOPICS)}"',
        lambda: f'("{rng.choice(TOPICS)}" OR "{rng.choice(TOPICS)}" OR {rng.choice(HASHTAGS)}) -giveaway -competition',
        lambda: f'from:{rng.choice(HANDLES)} ("{rng.choice(TOPICS)}" OR {rng.choice(WILDCARDS)})',
        lambda: f"links:{rng.choice(DOMAINS)} -is:repost",
        lambda: f'"{rng.choice(TOPICS)} {rng.choice(["delay", "complaint", "refused", "ignored"])}"~4 "{rng.choice(ORGANISATIONS)}"',
        lambda: f'list:"{rng.choice(LIST_NAMES)}" ({rng.choice(HASHTAGS)} OR "{rng.choice(TOPICS)}" OR {rng.choice(WILDCARDS)})',
        lambda: f"@{rng.choice(HANDLES)} is:reply",
        lambda: f"to:{rng.choice(HANDLES)} -is:repost",
        lambda: f'{{ICO}} {rng.choice(WILDCARDS)} <<<the regulator, not the camera sensor>>>',
        lambda: f'"{rng.choice(ORGANISATIONS)}" AND ("{rng.choice(TOPICS)}" OR {rng.choice(HASHTAGS)}) lang:en',
        lambda: f'{rng.choice(WILDCARDS)} NEAR/3f ("{rng.choice(ORGANISATIONS)}" OR {rng.choice(HASHTAGS)})',
        lambda: f'("{rng.choice(TOPICS)}" OR "{rng.choice(TOPICS)}") (council OR authority OR trust) NOT "{rng.choice(TOPICS)}"',
        lambda: f"url:{rng.choice(DOMAINS)}/news OR site:{rng.choice(DOMAINS)}",
        lambda: f'mentions:{rng.choice(HANDLES)} ("{rng.choice(TOPICS)}" OR complain*)',
    ]
    while len(searches) < count:
        searches.append(rng.choice(patterns)())
    return searches


def generate_posts(rng: random.Random, count: int, relevant_share: float = 0.05) -> list[Post]:
    posts = []
    for number in range(count):
        relevant = rng.random() < relevant_share
        words = rng.choices(RELEVANT if relevant else CHATTER, k=rng.randint(8, 40))
        if rng.random() < 0.2:
            words.insert(rng.randrange(len(words) + 1), rng.choice(HASHTAGS if relevant else ["#weekend", "#mood", "#football"]))
        if rng.random() < 0.15:
            words.insert(rng.randrange(len(words) + 1), "@" + rng.choice(HANDLES if relevant else ["dave_k", "sarahj", "mum"]))
        if rng.random() < 0.3:
            words.append(rng.choice(EMOJI))
        links = ()
        if rng.random() < 0.1:
            domain = rng.choice(DOMAINS if relevant else ["youtube.com", "instagram.com", "example.com"])
            words.append(f"https://www.{domain}/news/{number}")
        if rng.random() < 0.05:
            links = (f"https://{rng.choice(DOMAINS)}/a/{number}",)
        text = " ".join(words)
        text = text[0].upper() + text[1:]
        handle = rng.choice(HANDLES) if rng.random() < 0.05 else f"user{rng.randrange(50_000)}"
        reply_to = rng.choice(HANDLES) if rng.random() < 0.1 else ""
        posts.append(
            Post(
                platform="x",
                external_id=str(number),
                text=text,
                url=f"https://x.com/{handle}/status/{number}",
                author_handle=handle,
                lang=rng.choice(["en", "en", "en", "cy", ""]),
                links=links,
                in_reply_to_handle=reply_to,
                kind="reply" if reply_to else rng.choice(["post", "post", "post", "repost", "quote"]),
            )
        )
    return posts


def generate_lists(rng: random.Random) -> dict[str, set[str]]:
    return {
        name: {rng.choice(HANDLES) for _ in range(5)} | {f"user{rng.randrange(50_000)}" for _ in range(200)}
        for name in LIST_NAMES
    }


def run(n_searches: int = 200, n_posts: int = 100_000, seed: int = 20261122, sample: int = 5_000) -> dict:
    """Time the matcher with and without its prefilter; return the figures."""
    rng = random.Random(seed)
    searches = generate_searches(rng, n_searches)
    matcher = Matcher((index, parse(text)) for index, text in enumerate(searches))
    posts = generate_posts(rng, n_posts)
    lists = generate_lists(rng)

    sampled = posts[: min(sample, len(posts))]
    prefiltered, prefiltered_seconds = _timed(lambda: [matcher.match(post, lists=lists) for post in posts])
    unfiltered, unfiltered_seconds = _timed(lambda: [matcher.match_unfiltered(post, lists=lists) for post in sampled])

    mismatches = sum(1 for a, b in zip(prefiltered, unfiltered) if a != b)
    per_second_prefiltered = len(posts) / prefiltered_seconds
    per_second_unfiltered = len(sampled) / unfiltered_seconds
    return {
        "searches": len(searches),
        "posts": len(posts),
        "unfiltered_sample": len(sampled),
        "posts_per_second_prefiltered": per_second_prefiltered,
        "posts_per_second_unfiltered": per_second_unfiltered,
        "ratio": per_second_prefiltered / per_second_unfiltered,
        "matches": sum(len(found) for found in prefiltered),
        "posts_matched": sum(1 for found in prefiltered if found),
        "mismatches": mismatches,
    }


def _timed(work):
    """Run `work` once with the cyclic garbage collector paused (as `timeit` does).

    With 100,000 posts held in memory, full collections set off by the
    benchmark's own allocations would otherwise dominate and vary run to run.
    """
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        started = time.perf_counter()
        result = work()
        return result, time.perf_counter() - started
    finally:
        if was_enabled:
            gc.enable()


def format_report(figures: dict) -> str:
    target_met = figures["posts_per_second_prefiltered"] >= 50_000 and figures["ratio"] >= 20
    return "\n".join(
        [
            f"Local matching: {figures['searches']} saved searches, {figures['posts']:,} posts",
            f"  prefiltered: {figures['posts_per_second_prefiltered']:,.0f} posts/s",
            f"  unfiltered:  {figures['posts_per_second_unfiltered']:,.0f} posts/s "
            f"(sample of {figures['unfiltered_sample']:,})",
            f"  ratio:       {figures['ratio']:.1f}x",
            f"  matches:     {figures['matches']:,} hits on {figures['posts_matched']:,} posts",
            f"  agreement:   {'identical' if not figures['mismatches'] else str(figures['mismatches']) + ' posts DIFFER'}"
            " on the sample",
            f"  target (>= 50,000 posts/s and >= 20x): {'met' if target_met else 'NOT met'}",
        ]
    )
