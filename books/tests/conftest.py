import pytest

from books.search import index_posts
from books.suggestions import post_refresh


@pytest.fixture
def indexed():
    """Index (search + suggestions) the given posts synchronously, as the consumers do."""

    def run(*posts):
        index_posts([p.pk for p in posts])
        for post in posts:
            post_refresh(post.pk)
        return posts

    return run
