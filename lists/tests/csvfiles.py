"""Goodreads and StoryGraph export files, built in code for the tests and the benchmark."""

import csv
import io

GOODREADS_HEADER = [
    "Book Id", "Title", "Author", "Author l-f", "Additional Authors", "ISBN", "ISBN13",
    "My Rating", "Average Rating", "Publisher", "Binding", "Number of Pages", "Year Published",
    "Original Publication Year", "Date Read", "Date Added", "Bookshelves",
    "Bookshelves with positions", "Exclusive Shelf", "My Review", "Spoiler", "Private Notes",
    "Read Count", "Owned Copies",
]  # fmt: skip

STORYGRAPH_HEADER = [
    "Title", "Authors", "Contributors", "ISBN/UID", "Format", "Read Status", "Date Added",
    "Last Date Read", "Dates Read", "Read Count", "Moods", "Pace",
    "Character- or Plot-Driven?", "Strong Character Development?", "Loveable Characters?",
    "Diverse Characters?", "Flawed Characters?", "Star Rating", "Review", "Content Warnings",
    "Content Warning Description", "Tags", "Owned?",
]  # fmt: skip


def goodreads_row(
    *,
    title,
    author,
    isbn="",
    isbn13="",
    rating=0,
    shelf="to-read",
    shelves="",
    review="",
    date_read="",
    date_added="2024/01/15",
    book_id=1,
    additional="",
) -> dict:
    """A row as Goodreads writes it: ISBNs as ="…" (and ="" when there is none)."""
    return {
        "Book Id": str(book_id),
        "Title": title,
        "Author": author,
        "Author l-f": ", ".join(reversed(author.split(" ", 1))),
        "Additional Authors": additional,
        "ISBN": f'="{isbn}"',
        "ISBN13": f'="{isbn13}"',
        "My Rating": str(rating),
        "Average Rating": "4.02",
        "Publisher": "Ace",
        "Binding": "Paperback",
        "Number of Pages": "300",
        "Year Published": "1990",
        "Original Publication Year": "1965",
        "Date Read": date_read,
        "Date Added": date_added,
        "Bookshelves": shelves,
        "Bookshelves with positions": "",
        "Exclusive Shelf": shelf,
        "My Review": review,
        "Spoiler": "",
        "Private Notes": "",
        "Read Count": "1" if shelf == "read" else "0",
        "Owned Copies": "0",
    }


def to_csv(header, rows, *, extra_lines=()) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    text = out.getvalue()
    for line in extra_lines:
        text += line + "\r\n"
    return text.encode("utf-8")


def storygraph_row(*, title, authors, isbn="", status="to-read", rating="", review="", tags=""):
    row = dict.fromkeys(STORYGRAPH_HEADER, "")
    row.update(
        {
            "Title": title,
            "Authors": authors,
            "ISBN/UID": isbn,
            "Format": "paperback",
            "Read Status": status,
            "Date Added": "2023/03/02",
            "Last Date Read": "2023/04/01" if status == "read" else "",
            "Star Rating": rating,
            "Review": review,
            "Tags": tags,
        }
    )
    return row


def goodreads_bulk(n: int, *, seed_offset: int = 0) -> bytes:
    """A large Goodreads file of distinct made-up books (for the 5,000-row import)."""
    shelves = ["to-read", "currently-reading", "read"]
    rows = [
        goodreads_row(
            title=f"Bulk Book {seed_offset + i}",
            author=f"Bulk Writer {(seed_offset + i) % 997}",
            shelf=shelves[i % 3],
            shelves="bulk-shelf" if i % 10 == 0 else "",
            rating=(i % 6),
            date_read="2022/05/01" if i % 3 == 2 else "",
            book_id=i,
        )
        for i in range(n)
    ]
    return to_csv(GOODREADS_HEADER, rows)
