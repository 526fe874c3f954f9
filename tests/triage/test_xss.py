from django.urls import reverse

SCRIPT = "<script>alert('owned')</script> hello <img src=x onerror=alert(1)>"


def test_it_renders_a_hostile_post_inert(client, comms_officer, communications, make_item):
    item = make_item(
        communications,
        text=SCRIPT,
        title="<b>Headline</b>",
        author_name="<svg onload=alert(2)>",
        url="javascript:alert(3)",
        links=["javascript:alert(4)", "https://ico.org.uk/ok"],
    )
    client.force_login(comms_officer)
    body = client.get(reverse("triage:inbox", args=["communications"])).content.decode()
    assert f'id="item-{item.id}"' in body
    assert "<script>alert" not in body and "<img src=x" not in body and "<svg onload" not in body
    assert "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;" in body
    assert "&lt;b&gt;Headline&lt;/b&gt;" in body
    assert 'href="javascript:' not in body
    assert '<a href="https://ico.org.uk/ok"' in body


def test_it_sends_a_strict_content_security_policy(client, comms_officer, communications):
    client.force_login(comms_officer)
    policy = client.get(reverse("triage:inbox", args=["communications"]))["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
