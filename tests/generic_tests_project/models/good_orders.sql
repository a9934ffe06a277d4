-- expression_is_true: discount never exceeds amount, amount never negative.
select
    id,
    amount,
    discount
from (
    values
    (1, 10, 0),
    (2, 20, 5),
    (3, 5, 5)
) as t (id, amount, discount)
