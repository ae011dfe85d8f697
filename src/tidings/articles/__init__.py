"""Reading the news: the queries behind the home, article, source and hashtag pages and the API."""
