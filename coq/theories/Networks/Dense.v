(* Dense neurons (THEORY.md section 8.1, "Open" (1): "every weight of every
   kinked neuron is a trainable parameter"; issue 18, item 2).  A neuron is
   dense when its pre-activation is linear in the parameters with
   parameter-free coefficients and no parameter-free term,
       tau_k = sum_q w_q * s_q   (s_q built from inputs and earlier outputs),
   e.g. b_k + sum_j w_kj * s_j, and each of its parameters occurs in no other
   neuron.  The MLP layer W z + b is dense; h = w x1 + b + x2 (an identity
   skip) and 1 * x + b (a frozen weight) are not: their parameter-free terms
   x2 and x are the fixed-coefficient inputs of T6Boundary.v.
   Euler's identity: a dense pre-activation is sum_q w_q * d tau_k / d w_q,
   so two copies of a dense neuron with the same coefficients d tau / d w_q
   (the same input row) have the same pre-activation. *)
From Coq Require Import Reals Lra Lia List Arith.
From ADCorrect Require Import Vec Activation Network AD.
Import ListNotations.
Open Scope R_scope.

(** * Definitions *)

Definition param_free (e : expr) : Prop := forall p, ~ occurs_param p e.

(* linear in the parameters, coefficients parameter-free, no free term *)
Fixpoint lin_params (e : expr) : Prop :=
  match e with
  | EConst r => r = 0
  | EParam _ => True
  | EInput _ | ENeuron _ => False
  | EAdd e1 e2 => lin_params e1 /\ lin_params e2
  | EMul e1 e2 => (lin_params e1 /\ param_free e2) \/ (param_free e1 /\ lin_params e2)
  end.

(* the parameters of an expression, with repetitions *)
Fixpoint params_of (e : expr) : list nat :=
  match e with
  | EParam p => [p]
  | EAdd e1 e2 | EMul e1 e2 => params_of e1 ++ params_of e2
  | _ => []
  end.

(* the parameters of neuron k, each once *)
Definition neuron_params (net : network) (k : nat) : list nat :=
  nodup Nat.eq_dec (params_of (tau net k)).

Definition dense_neuron (net : network) (k : nat) : Prop :=
  lin_params (tau net k) /\
  forall p, occurs_param p (tau net k) ->
    forall j, (j < n_size net)%nat -> j <> k -> ~ occurs_param p (tau net j).

(** * Parameters *)

Lemma params_of_spec (p : nat) (e : expr) : In p (params_of e) <-> occurs_param p e.
Proof.
  induction e; simpl; try tauto; try (split; [intros [H|[]]; exact H | intros H; left; exact H]);
    rewrite in_app_iff; tauto.
Qed.

Lemma neuron_params_spec (net : network) (k p : nat) :
  In p (neuron_params net k) <-> occurs_param p (tau net k).
Proof. unfold neuron_params; rewrite nodup_In; apply params_of_spec. Qed.

Lemma neuron_params_NoDup (net : network) (k : nat) : NoDup (neuron_params net k).
Proof. apply NoDup_nodup. Qed.

(** * Euler's identity *)

Lemma sum_list_map_plus (f g : nat -> R) (l : list nat) :
  sum_list (map (fun p => f p + g p) l) = sum_list (map f l) + sum_list (map g l).
Proof. induction l as [|a l IH]; unfold sum_list in *; simpl; [ring | rewrite IH; ring]. Qed.

Lemma sum_list_map_scal_r (f : nat -> R) (k : R) (l : list nat) :
  sum_list (map (fun p => f p * k) l) = sum_list (map f l) * k.
Proof. induction l as [|a l IH]; unfold sum_list in *; simpl; [ring | rewrite IH; ring]. Qed.

Lemma sum_list_map_scal_l (f : nat -> R) (k : R) (l : list nat) :
  sum_list (map (fun p => k * f p) l) = k * sum_list (map f l).
Proof. induction l as [|a l IH]; unfold sum_list in *; simpl; [ring | rewrite IH; ring]. Qed.

Lemma sum_list_indicator (w : vec) (q : nat) (l : list nat) :
  NoDup l -> In q l -> sum_list (map (fun p => w p * (if Nat.eq_dec q p then 1 else 0)) l) = w q.
Proof.
  induction l as [|a l IH]; intros Hnd Hq; [destruct Hq|].
  inversion Hnd as [|a' l' Ha Hl]; subst; cbn [map]; change (sum_list (?u :: ?v)) with (u + sum_list v).
  destruct Hq as [->|Hq].
  - destruct (Nat.eq_dec q q) as [_|]; [|congruence].
    rewrite (sum_list_map_ext _ (fun p => w p * 0)); [rewrite sum_list_map_scal_r; ring|].
    intros p Hp; destruct (Nat.eq_dec q p) as [->|]; [contradiction | reflexivity].
  - destruct (Nat.eq_dec q a) as [->|]; [contradiction|]; rewrite IH by assumption; ring.
Qed.

Lemma eval_dparam_param_free (x : nat -> R) (w : vec) (z : nat -> R) (e : expr) (p : nat) :
  param_free e -> eval x w z (dparam p e) = 0.
Proof. intros H; apply dparam_not_occurs, H. Qed.

(* e = sum_(q in l) w_q * de/dw_q for e linear in the parameters, l a list of
   its parameters without repetition *)
Theorem lin_params_euler (x : nat -> R) (w : vec) (z : nat -> R) (e : expr) (l : list nat) :
  lin_params e -> NoDup l -> (forall p, occurs_param p e -> In p l) ->
  eval x w z e = sum_list (map (fun p => w p * eval x w z (dparam p e)) l).
Proof.
  intros He Hnd; induction e as [r|q|i|j|e1 IH1 e2 IH2|e1 IH1 e2 IH2]; simpl in He |- *; intros Hl.
  - subst r; rewrite sum_list_map_scal_r; ring.
  - symmetry; apply sum_list_indicator; [exact Hnd | apply Hl; reflexivity].
  - destruct He.
  - destruct He.
  - rewrite (sum_list_map_ext _ (fun p => w p * eval x w z (dparam p e1) + w p * eval x w z (dparam p e2)))
      by (intros; simpl; ring).
    rewrite sum_list_map_plus, <- IH1, <- IH2; [reflexivity | tauto | | tauto |];
      intros p Hp; apply Hl; simpl; tauto.
  - destruct He as [[He1 Hf2]|[Hf1 He2]].
    + rewrite (sum_list_map_ext _ (fun p => w p * eval x w z (dparam p e1) * eval x w z e2)).
      * rewrite sum_list_map_scal_r, <- IH1; [reflexivity | exact He1 |].
        intros p Hp; apply Hl; simpl; tauto.
      * intros p _; simpl; rewrite (eval_dparam_param_free x w z e2 p Hf2); ring.
    + rewrite (sum_list_map_ext _ (fun p => eval x w z e1 * (w p * eval x w z (dparam p e2)))).
      * rewrite sum_list_map_scal_l, <- IH2; [reflexivity | exact He2 |].
        intros p Hp; apply Hl; simpl; tauto.
      * intros p _; simpl; rewrite (eval_dparam_param_free x w z e1 p Hf1); ring.
Qed.

(* the pre-activation of a neuron linear in the parameters *)
Corollary dense_euler (net : network) (k : nat) (x : nat -> R) (w : vec) (z : nat -> R) :
  lin_params (tau net k) ->
  eval x w z (tau net k) =
  sum_list (map (fun p => w p * eval x w z (dparam p (tau net k))) (neuron_params net k)).
Proof.
  intros Hl; apply lin_params_euler; [exact Hl | apply neuron_params_NoDup|].
  intros p Hp; apply neuron_params_spec, Hp.
Qed.

(* every base neuron whose activation has a kink is dense *)
Definition kinked_dense (net : network) : Prop :=
  forall k, (k < n_size net)%nat -> kinks (sigma net k) <> [] -> dense_neuron net k.
