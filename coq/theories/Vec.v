(* Vectors in R^W (THEORY.md sections 1 and 3; FORMAL_PLAN.md "Vectors as
   functions"): a parameter vector is a function nat -> R whose dimension W is
   carried by the network; a perturbation h is "in R^W" when it vanishes from W
   on.  Max norm, dot product, coordinate update and unit vectors. *)
From Coq Require Import Reals Lra List.
Import ListNotations.
Open Scope R_scope.

Definition vec := nat -> R.

Definition upd (w : vec) (p : nat) (t : R) : vec :=
  fun i => if Nat.eq_dec i p then t else w i.

Definition vadd (w h : vec) : vec := fun i => w i + h i.
Definition vscale (c : R) (h : vec) : vec := fun i => c * h i.
Definition vzero : vec := fun _ => 0.
Definition unit_vec (p : nat) : vec := fun i => if Nat.eq_dec i p then 1 else 0.

(* h lives in R^W *)
Definition supported (W : nat) (h : vec) : Prop := forall i, (W <= i)%nat -> h i = 0.

Definition norm_max (W : nat) (h : vec) : R :=
  fold_right Rmax 0 (map (fun i => Rabs (h i)) (seq 0 W)).

Definition dot (W : nat) (g h : vec) : R :=
  fold_right Rplus 0 (map (fun i => g i * h i) (seq 0 W)).
