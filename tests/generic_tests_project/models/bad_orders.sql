-- expression_is_true: ids 2 and 4 give more discount than the amount, id 3 has a
-- negative amount (and 0 <= -5 is false), id 5 has a null amount (unknown, not a failure).
select
    id,
    amount,
    discount
from (
    values
    (1, 10, 0),
    (2, 20, 25),
    (3, -5, 0),
    (4, 7, 9),
    (5, null, 1)
) as t (id, amount, discount)
